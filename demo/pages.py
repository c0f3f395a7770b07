"""The facility pages' details in the demo (issue #21 item 6): access, parking, accessibility, equipment, photos.

Made up, and shown with a サンプル label (``details_are_samples``, ``FacilityPhoto.is_sample``), except the
Shiroi grounds' equipment, which is the seed's table (/work/shared/seeds/shiroi-sports-facilities.txt,
【グラウンド施設の特徴】) and is shown without the label. The photos are drawn here with Pillow when the demo is
loaded: no network, no image files in the repository.
"""

import io

from django.core.files.storage import default_storage

# (municipality slug, facility code) → Facility fields. Facilities not listed keep empty details.
DETAILS = {
    ("kodaira", "nakajima"): {
        "access_ja": "西武新宿線「花小金井駅」から徒歩15分（サンプル）\n"
        "コミュニティタクシー「中島地域センター前」下車すぐ（サンプル）",
        "access_en": "15 minutes on foot from Hana-Koganei Station, Seibu Shinjuku Line (sample)\n"
        "Community taxi stop in front of the center (sample)",
        "has_parking": True,
        "parking_ja": "5台（無料・先着順）。なるべく公共交通機関でお越しください。",
        "parking_en": "5 cars (free, first come). Please come by public transport if you can.",
        "step_free_entrance": True,
        "accessible_toilet": True,
        "lift": False,
        "accessibility_ja": "和室は2階です（階段のみ）。",
        "accessibility_en": "The Japanese-style room is on the first floor (stairs only).",
        "equipment_ja": "長机・椅子\nホワイトボード\nプロジェクター・スクリーン（窓口で貸出）\nピアノ（集会室）",
        "equipment_en": "Long tables and chairs\nWhiteboard\nProjector and screen (lent at the counter)\n"
        "Piano (assembly room)",
        "details_are_samples": True,
        "photos": [
            ("building", "中島地域センターの外観（サンプル画像）", "Nakajima Community Center from outside (sample)"),
            (
                "room",
                "集会室の内部：長机と椅子が並ぶ（サンプル画像）",
                "The assembly room with tables and chairs (sample)",
            ),
        ],
    },
    ("shiroi", "minamiyama-tennis"): {
        "access_ja": "北総線「白井駅」から徒歩20分（サンプル）",
        "access_en": "20 minutes on foot from Shiroi Station, Hokuso Line (sample)",
        "has_parking": True,
        "parking_ja": "公園駐車場 30台（無料）",
        "parking_en": "Park car park, 30 cars (free)",
        "step_free_entrance": True,
        "accessible_toilet": None,  # not known: the page says so, never "no"
        "lift": None,
        "equipment_ja": "ネット・審判台（コート常設）\nベンチ",
        "equipment_en": "Nets and umpire chairs (on every court)\nBenches",
        "details_are_samples": True,
        "photos": [
            ("court", "砂入り人工芝のテニスコート（サンプル画像）", "Artificial-turf tennis courts (sample)"),
        ],
    },
    ("tamba", "kaibara"): {
        "access_ja": "JR福知山線「柏原駅」から徒歩10分（サンプル）",
        "access_en": "10 minutes on foot from Kaibara Station, JR Fukuchiyama Line (sample)",
        "has_parking": True,
        "parking_ja": "20台（無料）",
        "parking_en": "20 cars (free)",
        "step_free_entrance": True,
        "accessible_toilet": True,
        "lift": True,
        "accessibility_ja": "車いすの貸出があります（窓口へ）。",
        "accessibility_en": "Wheelchairs can be borrowed at the counter.",
        "equipment_ja": "調理台・食器（調理室）\n座卓・座布団（和室）\nマイク・アンプ（大会議室）",
        "equipment_en": "Cooking tables and dishes (cooking room)\nLow tables and cushions (Japanese-style room)\n"
        "Microphone and amplifier (large meeting room)",
        "details_are_samples": True,
        "photos": [
            ("building", "柏原住民センターの外観（サンプル画像）", "Kaibara Resident Center from outside (sample)"),
        ],
    },
    # From the seed (【グラウンド施設の特徴】): not samples.
    ("shiroi", "nakakido-ground"): {
        "equipment_ja": "マウンド：なし\nサッカーゴール：あり\nベース：移動式\nナイター設備：なし",
        "equipment_en": "Mound: none\nSoccer goals: yes\nBases: movable\nNight lights: none",
    },
    ("shiroi", "minamiyama-ground"): {
        "equipment_ja": "マウンド：あり\nサッカーゴール：あり（ミニ）\nベース：固定式\nナイター設備：あり",
        "equipment_en": "Mound: yes\nSoccer goals: yes (mini)\nBases: fixed\nNight lights: yes",
    },
    ("shiroi", "undokoen-ground"): {
        "equipment_ja": "マウンド：あり\nサッカーゴール：あり\nベース：固定式\nナイター設備：なし",
        "equipment_en": "Mound: yes\nSoccer goals: yes\nBases: fixed\nNight lights: none",
    },
}

SKY, GRASS, WALL, ROOF, WINDOW, FLOOR, TABLE, COURT, LINE = (
    (186, 220, 245),
    (126, 176, 106),
    (236, 228, 212),
    (140, 90, 70),
    (120, 160, 200),
    (205, 170, 125),
    (150, 110, 80),
    (70, 130, 90),
    (250, 250, 250),
)


def draw_sample_photo(kind: str) -> bytes:
    """A small 640×400 PNG picture of a ``building``, a ``room`` or a ``court``, drawn with Pillow, with a
    "SAMPLE" band so nobody takes it for the real place."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), SKY)
    draw = ImageDraw.Draw(image)
    if kind == "building":
        draw.rectangle((0, 300, 640, 400), fill=GRASS)
        draw.rectangle((140, 150, 500, 320), fill=WALL, outline=(120, 110, 100), width=3)
        draw.polygon([(120, 155), (320, 70), (520, 155)], fill=ROOF)
        for x in (170, 250, 360, 440):
            draw.rectangle((x, 185, x + 40, 225), fill=WINDOW)
        draw.rectangle((295, 250, 345, 320), fill=(90, 70, 60))
    elif kind == "room":
        draw.rectangle((0, 0, 640, 400), fill=WALL)
        draw.rectangle((0, 260, 640, 400), fill=FLOOR)
        draw.rectangle((220, 40, 420, 140), fill=(245, 245, 245), outline=(150, 150, 150), width=3)
        for y in (250, 310):
            draw.rectangle((80, y, 560, y + 18), fill=TABLE)
    else:  # court
        draw.rectangle((0, 120, 640, 400), fill=COURT)
        draw.polygon([(120, 380), (520, 380), (440, 150), (200, 150)], outline=LINE, width=4)
        draw.line((160, 265, 480, 265), fill=LINE, width=3)
        draw.line((320, 150, 320, 380), fill=LINE, width=2)
    draw.rectangle((0, 0, 640, 36), fill=(30, 30, 30))
    draw.text((12, 10), "SAMPLE / sample image for the Yoyaku demo", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def photo_file(municipality_slug: str, facility_code: str, index: int, kind: str) -> str:
    """The stored file of a demo photo: drawn and saved once (a second demo load reuses it)."""
    name = f"demo/{municipality_slug}-{facility_code}-{index}.png"
    if not default_storage.exists(name):
        from django.core.files.base import ContentFile

        saved = default_storage.save(name, ContentFile(draw_sample_photo(kind)))
        assert saved == name, saved
    return name
