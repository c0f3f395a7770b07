"""Demo data of the three municipalities (Kodaira, Shiroi, Tamba) and their demo accounts.

The data modules (``kodaira``, ``shiroi``, ``tamba``, ``users``) are plain Python lists and dicts;
``load.load_demo()`` writes them to the database idempotently (``manage.py seed_demo``).
"""
