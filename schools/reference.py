"""Reference geography of the pilot (DOMAIN.md §4) and the pilot school network's shape."""

from __future__ import annotations

REGIONS = [
    {
        "code": "KAR",
        "name_ru": "Карагандинская область",
        "name_kk": "Қарағанды облысы",
        "name_en": "Karaganda region",
    },
    {
        "code": "SHY",
        "name_ru": "город Шымкент",
        "name_kk": "Шымкент қаласы",
        "name_en": "Shymkent city",
    },
]

# (code, region, kind, ru, kk, en, pilot schools)
DISTRICTS = [
    (
        "KAR-KAZ",
        "KAR",
        "city_district",
        "г. Караганда, район имени Казыбек би",
        "Қарағанды қ., Қазыбек би атындағы аудан",
        "Karaganda, Kazybek Bi district",
        38,
    ),
    (
        "KAR-BOK",
        "KAR",
        "city_district",
        "г. Караганда, район Алихана Бокейханова",
        "Қарағанды қ., Әлихан Бөкейхан ауданы",
        "Karaganda, Alikhan Bokeikhan district",
        30,
    ),
    ("KAR-BAL", "KAR", "city", "г. Балхаш", "Балқаш қ.", "Balkhash", 14),
    ("KAR-PRI", "KAR", "city", "г. Приозёрск", "Приозёрск қ.", "Priozersk", 3),
    ("KAR-SAR", "KAR", "city", "г. Сарань", "Саран қ.", "Saran", 9),
    ("KAR-TEM", "KAR", "city", "г. Темиртау", "Теміртау қ.", "Temirtau", 24),
    ("KAR-SHA", "KAR", "city", "г. Шахтинск", "Шахтинск қ.", "Shakhtinsk", 10),
    ("KAR-ABA", "KAR", "district", "Абайский район", "Абай ауданы", "Abay district", 14),
    ("KAR-AKT", "KAR", "district", "Актогайский район", "Ақтоғай ауданы", "Aktogay district", 6),
    (
        "KAR-BUK",
        "KAR",
        "district",
        "Бухар-Жырауский район",
        "Бұқар жырау ауданы",
        "Bukhar-Zhyrau district",
        14,
    ),
    (
        "KAR-KRK",
        "KAR",
        "district",
        "Каркаралинский район",
        "Қарқаралы ауданы",
        "Karkaraly district",
        10,
    ),
    ("KAR-NUR", "KAR", "district", "Нуринский район", "Нұра ауданы", "Nura district", 8),
    (
        "KAR-OSA",
        "KAR",
        "district",
        "Осакаровский район",
        "Осакаров ауданы",
        "Osakarov district",
        12,
    ),
    ("KAR-SHE", "KAR", "district", "Шетский район", "Шет ауданы", "Shet district", 10),
    ("SHY-ABA", "SHY", "city_district", "Абайский район", "Абай ауданы", "Abay district", 22),
    (
        "SHY-ALF",
        "SHY",
        "city_district",
        "Аль-Фарабийский район",
        "Әл-Фараби ауданы",
        "Al-Farabi district",
        25,
    ),
    (
        "SHY-ENB",
        "SHY",
        "city_district",
        "Енбекшинский район",
        "Еңбекші ауданы",
        "Enbekshi district",
        24,
    ),
    (
        "SHY-KRT",
        "SHY",
        "city_district",
        "Каратауский район",
        "Қаратау ауданы",
        "Karatau district",
        26,
    ),
    ("SHY-TUR", "SHY", "city_district", "Туранский район", "Тұран ауданы", "Turan district", 18),
]

PILOT_SCHOOLS = {"KAR": 202, "SHY": 115}
