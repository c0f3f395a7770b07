"""Settings for the real ``manage.py qcluster`` of tests/ops/test_worker_faults.py: production's, except that the
ORM broker hands a task whose worker died to another worker after 25 s instead of 10 minutes (``retry``), so the
test can watch the re-delivery. ``timeout`` stays above the time the test keeps the job blocked before killing it."""

from config.settings import *

Q_CLUSTER = {**Q_CLUSTER, "timeout": 20, "retry": 25, "workers": 1}
