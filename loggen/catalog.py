"""Domain catalogs: what each life-service domain sells, in Chinese and English.

Pure data. Every text comes as a (zh, en) pair so that an item or a query can be rendered in either
language from the same latent choice (same index -> "老王家牛肉面" / "Wang's Beef Noodles"). The
generator's latent relevance model reads `group` (substitutes share a group) and
`Domain.complements` (groups that go together, e.g. drinks with a meal).
"""

from __future__ import annotations

from dataclasses import dataclass

Pair = tuple[str, str]  # (zh, en)


@dataclass(frozen=True)
class Category:
    key: str
    name: Pair  # the category label written into items.category
    group: str  # categories in one group substitute for each other
    price: tuple[float, float]  # typical unit price range (CNY)
    query_words: tuple[Pair, ...]  # how users ask for it
    nouns: tuple[Pair, ...]  # head nouns of item titles (or movie titles)
    details: tuple[Pair, ...]  # dishes / services / products listed in attributes
    tags: tuple[Pair, ...]
    hours: tuple[str, ...]  # opening-hours patterns


@dataclass(frozen=True)
class Feature:
    """A yes/no item property a query can ask for ("spicy", "free parking")."""

    key: str
    name: Pair
    share: float  # share of items that have it
    only: tuple[str, ...] = ()  # category keys it applies to; empty: every category


@dataclass(frozen=True)
class Domain:
    name: str
    code: str  # short id prefix
    categories: tuple[Category, ...]
    features: tuple[Feature, ...]
    prefixes: tuple[Pair, ...]  # title prefixes: owners, brands, cinemas
    title_format: Pair  # format strings with {p} (prefix) and {n} (noun)
    detail_key: str  # attributes key of the detail list ("dishes", "amenities", ...)
    detail_label: Pair  # how descriptions introduce that list
    verbs: Pair  # query verbs ("想吃" / "order")
    complements: dict[str, tuple[str, ...]]
    activity: float  # relative requests per user-day
    hour_weights: tuple[float, ...]  # 24 weights: when requests happen
    cart_rate: float  # P(add_to_cart | click)
    direct_order_rate: float  # P(order | click, no cart)
    quantity: tuple[int, int]  # units per order (portions, nights, tickets)
    extra_fee: tuple[float, float]  # per-order fee range (delivery fee), 0 if none

    @property
    def category_keys(self) -> list[str]:
        return [c.key for c in self.categories]

    def feature_applies(self) -> list[list[bool]]:
        """[category][feature]: can an item of this category have this feature?"""
        return [[not f.only or c.key in f.only for f in self.features] for c in self.categories]


# Cities: canonical name, districts, centre (lat, lon). Names are pinyin, one spelling per place.
CITIES: tuple[tuple[str, Pair, tuple[tuple[str, Pair], ...], tuple[float, float]], ...] = (
    (
        "Shanghai",
        ("上海", "Shanghai"),
        (
            ("Xuhui", ("徐汇", "Xuhui")),
            ("Jing'an", ("静安", "Jing'an")),
            ("Pudong", ("浦东", "Pudong")),
            ("Huangpu", ("黄浦", "Huangpu")),
            ("Changning", ("长宁", "Changning")),
        ),
        (31.2304, 121.4737),
    ),
    (
        "Beijing",
        ("北京", "Beijing"),
        (
            ("Chaoyang", ("朝阳", "Chaoyang")),
            ("Haidian", ("海淀", "Haidian")),
            ("Dongcheng", ("东城", "Dongcheng")),
            ("Xicheng", ("西城", "Xicheng")),
        ),
        (39.9042, 116.4074),
    ),
    (
        "Guangzhou",
        ("广州", "Guangzhou"),
        (
            ("Tianhe", ("天河", "Tianhe")),
            ("Yuexiu", ("越秀", "Yuexiu")),
            ("Haizhu", ("海珠", "Haizhu")),
            ("Liwan", ("荔湾", "Liwan")),
        ),
        (23.1291, 113.2644),
    ),
    (
        "Shenzhen",
        ("深圳", "Shenzhen"),
        (
            ("Nanshan", ("南山", "Nanshan")),
            ("Futian", ("福田", "Futian")),
            ("Luohu", ("罗湖", "Luohu")),
            ("Bao'an", ("宝安", "Bao'an")),
        ),
        (22.5431, 114.0579),
    ),
    (
        "Chengdu",
        ("成都", "Chengdu"),
        (
            ("Jinjiang", ("锦江", "Jinjiang")),
            ("Wuhou", ("武侯", "Wuhou")),
            ("Qingyang", ("青羊", "Qingyang")),
            ("Gaoxin", ("高新", "Gaoxin")),
        ),
        (30.5728, 104.0668),
    ),
    (
        "Hangzhou",
        ("杭州", "Hangzhou"),
        (
            ("Xihu", ("西湖", "Xihu")),
            ("Shangcheng", ("上城", "Shangcheng")),
            ("Binjiang", ("滨江", "Binjiang")),
            ("Gongshu", ("拱墅", "Gongshu")),
        ),
        (30.2741, 120.1551),
    ),
)
CITY_WEIGHTS = (0.24, 0.22, 0.15, 0.15, 0.12, 0.12)

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
AGE_WEIGHTS = (0.22, 0.36, 0.22, 0.12, 0.08)
GENDERS = ("female", "male", "unknown")
GENDER_WEIGHTS = (0.49, 0.46, 0.05)
MEMBER_LEVELS = ("regular", "silver", "gold", "diamond")
MEMBER_WEIGHTS = (0.55, 0.25, 0.15, 0.05)
PRICE_SENSITIVITY = ("high", "medium", "low")
SCENES = ("search", "home_feed", "nearby", "agent_chat")
CHANNELS = ("app_ios", "app_android", "mini_program", "web")
CHANNEL_WEIGHTS = (0.38, 0.42, 0.15, 0.05)

_MEAL_HOURS = (
    0.2,
    0.1,
    0.05,
    0.05,
    0.05,
    0.1,
    0.4,
    0.9,
    1.2,
    1.0,
    1.8,
    4.5,
    4.0,
    1.6,
    0.9,
    0.9,
    1.3,
    3.2,
    4.2,
    2.6,
    1.5,
    1.3,
    1.0,
    0.5,
)
_EVENING_HOURS = (
    0.3,
    0.2,
    0.1,
    0.05,
    0.05,
    0.05,
    0.1,
    0.3,
    0.6,
    0.9,
    1.1,
    1.3,
    1.5,
    1.6,
    1.6,
    1.6,
    1.7,
    1.9,
    2.3,
    2.6,
    2.8,
    2.6,
    1.8,
    0.9,
)
_DAY_HOURS = (
    0.1,
    0.05,
    0.05,
    0.05,
    0.05,
    0.1,
    0.3,
    0.8,
    1.4,
    1.9,
    2.1,
    2.0,
    1.7,
    1.6,
    1.7,
    1.8,
    1.8,
    1.9,
    2.0,
    2.0,
    1.8,
    1.3,
    0.7,
    0.3,
)

FOOD_DELIVERY = Domain(
    name="food_delivery",
    code="fd",
    categories=(
        Category(
            "beef_noodles",
            ("牛肉面", "Beef Noodles"),
            "chinese",
            (18, 48),
            (("牛肉面", "beef noodles"), ("拉面", "hand-pulled noodles"), ("面馆", "noodle shop")),
            (("牛肉面", "Beef Noodles"), ("兰州拉面", "Lanzhou Ramen"), ("面馆", "Noodle House")),
            (
                ("红烧牛肉面", "braised beef noodles"),
                ("清汤牛肉面", "clear-broth beef noodles"),
                ("牛肉拌面", "beef dry noodles"),
                ("卤蛋", "marinated egg"),
                ("凉拌黄瓜", "cucumber salad"),
            ),
            (("面食", "noodles"), ("实惠", "good value"), ("快餐", "quick meal")),
            ("07:00-21:30", "09:00-22:00"),
        ),
        Category(
            "dumplings",
            ("饺子", "Dumplings"),
            "chinese",
            (20, 60),
            (("饺子", "dumplings"), ("水饺", "boiled dumplings"), ("馄饨", "wontons")),
            (
                ("饺子馆", "Dumpling House"),
                ("手工水饺", "Handmade Dumplings"),
                ("馄饨铺", "Wonton Shop"),
            ),
            (
                ("猪肉白菜饺子", "pork and cabbage dumplings"),
                ("三鲜水饺", "three-delicacy dumplings"),
                ("鲜肉馄饨", "pork wontons"),
                ("煎饺", "pan-fried dumplings"),
                ("酸辣汤", "hot and sour soup"),
            ),
            (("家常", "home-style"), ("面食", "noodles"), ("实惠", "good value")),
            ("08:00-21:00", "10:00-22:00"),
        ),
        Category(
            "hotpot",
            ("火锅", "Hotpot"),
            "chinese",
            (60, 160),
            (("火锅", "hotpot"), ("麻辣烫", "malatang"), ("串串", "skewer hotpot")),
            (("火锅", "Hotpot"), ("老火锅", "Old-style Hotpot"), ("麻辣烫", "Malatang")),
            (
                ("毛肚", "beef tripe"),
                ("肥牛卷", "sliced beef"),
                ("鸭血", "duck blood"),
                ("虾滑", "shrimp paste"),
                ("番茄锅底", "tomato broth"),
            ),
            (("川味", "Sichuan"), ("聚餐", "group dining"), ("重口味", "bold flavours")),
            ("11:00-02:00", "10:30-23:30"),
        ),
        Category(
            "bbq",
            ("烧烤", "BBQ Skewers"),
            "chinese",
            (40, 120),
            (("烧烤", "bbq"), ("烤串", "skewers"), ("夜宵", "late-night snacks")),
            (("烧烤", "BBQ"), ("烤串", "Skewers"), ("炭火烤肉", "Charcoal Grill")),
            (
                ("羊肉串", "lamb skewers"),
                ("烤鸡翅", "grilled chicken wings"),
                ("烤茄子", "grilled eggplant"),
                ("烤生蚝", "grilled oysters"),
                ("烤馒头片", "toasted buns"),
            ),
            (("夜宵", "late night"), ("下酒", "goes with beer"), ("聚餐", "group dining")),
            ("17:00-03:00", "16:00-02:00"),
        ),
        Category(
            "rice_bowls",
            ("盖饭", "Rice Bowls"),
            "chinese",
            (18, 45),
            (("盖饭", "rice bowl"), ("快餐", "fast food"), ("便当", "bento")),
            (("盖浇饭", "Rice Bowls"), ("快餐", "Fast Food"), ("便当", "Bento")),
            (
                ("鱼香肉丝饭", "yu-xiang pork rice"),
                ("宫保鸡丁饭", "kung pao chicken rice"),
                ("番茄炒蛋饭", "tomato egg rice"),
                ("卤肉饭", "braised pork rice"),
                ("例汤", "soup of the day"),
            ),
            (("工作餐", "office lunch"), ("快餐", "quick meal"), ("实惠", "good value")),
            ("09:30-21:00", "10:00-20:30"),
        ),
        Category(
            "burgers",
            ("汉堡", "Burgers"),
            "western",
            (25, 70),
            (("汉堡", "burger"), ("炸鸡", "fried chicken"), ("西式快餐", "western fast food")),
            (("汉堡", "Burgers"), ("炸鸡汉堡", "Chicken & Burgers"), ("汉堡屋", "Burger House")),
            (
                ("牛肉芝士汉堡", "cheeseburger"),
                ("香辣鸡腿堡", "spicy chicken burger"),
                ("薯条", "fries"),
                ("鸡块", "chicken nuggets"),
                ("可乐", "cola"),
            ),
            (("西式", "western"), ("快餐", "quick meal"), ("套餐", "combo")),
            ("10:00-23:00", "09:00-24:00"),
        ),
        Category(
            "pizza",
            ("披萨", "Pizza"),
            "western",
            (45, 130),
            (("披萨", "pizza"), ("意面", "pasta"), ("西餐", "western food")),
            (("披萨", "Pizza"), ("意式披萨", "Italian Pizza"), ("披萨厨房", "Pizza Kitchen")),
            (
                ("玛格丽特披萨", "margherita pizza"),
                ("榴莲披萨", "durian pizza"),
                ("培根意面", "bacon pasta"),
                ("鸡翅", "chicken wings"),
                ("凯撒沙拉", "caesar salad"),
            ),
            (("西式", "western"), ("聚餐", "group dining"), ("芝士", "cheesy")),
            ("10:30-22:30", "11:00-23:00"),
        ),
        Category(
            "milk_tea",
            ("奶茶", "Milk Tea"),
            "drinks",
            (12, 32),
            (("奶茶", "milk tea"), ("果茶", "fruit tea"), ("饮品", "drinks")),
            (("茶饮", "Tea Bar"), ("奶茶铺", "Milk Tea"), ("鲜果茶", "Fresh Fruit Tea")),
            (
                ("珍珠奶茶", "bubble milk tea"),
                ("杨枝甘露", "mango pomelo sago"),
                ("柠檬茶", "lemon tea"),
                ("芝士奶盖", "cheese foam tea"),
                ("烧仙草", "grass jelly"),
            ),
            (("下午茶", "afternoon tea"), ("甜", "sweet"), ("网红", "trending")),
            ("10:00-22:00", "09:30-23:00"),
        ),
        Category(
            "coffee",
            ("咖啡", "Coffee"),
            "drinks",
            (15, 40),
            (("咖啡", "coffee"), ("拿铁", "latte"), ("美式", "americano")),
            (("咖啡", "Coffee"), ("咖啡馆", "Café"), ("咖啡工坊", "Coffee Roasters")),
            (
                ("拿铁", "latte"),
                ("美式咖啡", "americano"),
                ("生椰拿铁", "coconut latte"),
                ("可颂", "croissant"),
                ("冷萃", "cold brew"),
            ),
            (("提神", "pick-me-up"), ("下午茶", "afternoon tea"), ("精品", "specialty")),
            ("07:30-20:00", "08:00-21:00"),
        ),
        Category(
            "desserts",
            ("甜品", "Desserts"),
            "dessert",
            (15, 50),
            (("甜品", "dessert"), ("蛋糕", "cake"), ("糖水", "sweet soup")),
            (("甜品店", "Dessert Bar"), ("糖水铺", "Sweet Soup"), ("蛋糕房", "Cake Studio")),
            (
                ("双皮奶", "double-skin milk"),
                ("芒果班戟", "mango pancake"),
                ("提拉米苏", "tiramisu"),
                ("红豆沙", "red bean soup"),
                ("芋圆", "taro balls"),
            ),
            (("甜", "sweet"), ("下午茶", "afternoon tea"), ("网红", "trending")),
            ("11:00-23:00", "12:00-24:00"),
        ),
    ),
    features=(
        Feature(
            "spicy",
            ("麻辣", "spicy"),
            0.4,
            ("beef_noodles", "hotpot", "bbq", "rice_bowls", "burgers"),
        ),
        Feature(
            "vegetarian",
            ("素食", "vegetarian"),
            0.25,
            ("dumplings", "hotpot", "rice_bowls", "burgers", "pizza"),
        ),
        Feature("free_delivery", ("免配送费", "free delivery"), 0.3),
        Feature("late_night", ("深夜营业", "late-night"), 0.25),
    ),
    prefixes=(
        ("老王家", "Wang's"),
        ("李记", "Li's"),
        ("张姐", "Sister Zhang's"),
        ("陈师傅", "Master Chen's"),
        ("巷口", "Alley Corner"),
        ("老街", "Old Street"),
        ("江边", "Riverside"),
        ("西门", "West Gate"),
        ("福记", "Fortune"),
        ("好味", "Tasty"),
        ("阿强", "Ah Keung's"),
        ("刘家", "Liu Family"),
    ),
    title_format=("{p}{n}", "{p} {n}"),
    detail_key="dishes",
    detail_label=("招牌", "Signature dishes"),
    verbs=("想吃", "order"),
    complements={
        "chinese": ("drinks", "dessert"),
        "western": ("drinks", "dessert"),
        "drinks": ("dessert",),
        "dessert": ("drinks",),
    },
    activity=1.0,
    hour_weights=_MEAL_HOURS,
    cart_rate=0.5,
    direct_order_rate=0.08,
    quantity=(1, 3),
    extra_fee=(0.0, 6.0),
)

HOTEL = Domain(
    name="hotel",
    code="ht",
    categories=(
        Category(
            "budget",
            ("经济型酒店", "Budget Hotel"),
            "standard",
            (150, 320),
            (
                ("经济型酒店", "budget hotel"),
                ("便宜酒店", "cheap hotel"),
                ("快捷酒店", "express hotel"),
            ),
            (("快捷酒店", "Express Inn"), ("经济酒店", "Budget Hotel"), ("便捷酒店", "Easy Stay")),
            (
                ("大床房", "queen room"),
                ("双床房", "twin room"),
                ("24小时热水", "24h hot water"),
                ("自助洗衣", "self-service laundry"),
            ),
            (("性价比", "value"), ("近地铁", "near metro"), ("干净", "clean")),
            ("00:00-24:00",),
        ),
        Category(
            "business",
            ("商务酒店", "Business Hotel"),
            "standard",
            (300, 650),
            (
                ("商务酒店", "business hotel"),
                ("出差住宿", "hotel for work trip"),
                ("酒店", "hotel"),
            ),
            (("商务酒店", "Business Hotel"), ("酒店", "Hotel"), ("商旅酒店", "Business Inn")),
            (
                ("行政房", "executive room"),
                ("会议室", "meeting room"),
                ("商务中心", "business centre"),
                ("洗衣服务", "laundry service"),
            ),
            (("商务", "business"), ("近地铁", "near metro"), ("安静", "quiet")),
            ("00:00-24:00",),
        ),
        Category(
            "luxury",
            ("豪华酒店", "Luxury Hotel"),
            "premium",
            (900, 2600),
            (
                ("豪华酒店", "luxury hotel"),
                ("五星级酒店", "five-star hotel"),
                ("高端酒店", "upscale hotel"),
            ),
            (
                ("大酒店", "Grand Hotel"),
                ("国际酒店", "International Hotel"),
                ("豪华酒店", "Luxury Hotel"),
            ),
            (
                ("江景套房", "river-view suite"),
                ("行政酒廊", "executive lounge"),
                ("水疗中心", "spa"),
                ("米其林餐厅", "fine-dining restaurant"),
            ),
            (("奢华", "luxury"), ("景观", "scenic view"), ("服务好", "great service")),
            ("00:00-24:00",),
        ),
        Category(
            "boutique",
            ("精品酒店", "Boutique Hotel"),
            "premium",
            (450, 1200),
            (
                ("精品酒店", "boutique hotel"),
                ("设计酒店", "design hotel"),
                ("网红酒店", "trendy hotel"),
            ),
            (
                ("精品酒店", "Boutique Hotel"),
                ("设计酒店", "Design Hotel"),
                ("艺术酒店", "Art Hotel"),
            ),
            (
                ("主题房", "themed room"),
                ("屋顶酒吧", "rooftop bar"),
                ("浴缸房", "room with bathtub"),
                ("投影仪", "projector"),
            ),
            (("设计感", "stylish"), ("拍照", "photogenic"), ("浪漫", "romantic")),
            ("00:00-24:00",),
        ),
        Category(
            "hostel",
            ("青年旅舍", "Hostel"),
            "shared",
            (60, 160),
            (("青旅", "hostel"), ("青年旅舍", "youth hostel"), ("床位", "dorm bed")),
            (
                ("青年旅舍", "Hostel"),
                ("国际青旅", "International Hostel"),
                ("背包客栈", "Backpackers"),
            ),
            (
                ("混住床位", "mixed dorm bed"),
                ("女生床位", "female dorm bed"),
                ("公共厨房", "shared kitchen"),
                ("储物柜", "lockers"),
            ),
            (("背包客", "backpacker"), ("便宜", "cheap"), ("社交", "social")),
            ("00:00-24:00",),
        ),
        Category(
            "guesthouse",
            ("民宿", "Guesthouse"),
            "shared",
            (180, 600),
            (("民宿", "guesthouse"), ("客栈", "inn"), ("特色民宿", "homestay")),
            (("民宿", "Guesthouse"), ("客栈", "Inn"), ("小院", "Courtyard Stay")),
            (
                ("庭院", "courtyard"),
                ("茶室", "tea room"),
                ("整套出租", "entire home"),
                ("烧烤台", "bbq terrace"),
            ),
            (("温馨", "cosy"), ("特色", "local character"), ("安静", "quiet")),
            ("00:00-24:00",),
        ),
        Category(
            "apartment",
            ("公寓酒店", "Serviced Apartment"),
            "shared",
            (250, 800),
            (("公寓", "apartment"), ("酒店式公寓", "serviced apartment"), ("长租", "long stay")),
            (("公寓", "Apartments"), ("服务式公寓", "Serviced Apartments"), ("寓所", "Residences")),
            (
                ("一室一厅", "one-bedroom suite"),
                ("厨房", "kitchen"),
                ("洗衣机", "washing machine"),
                ("客厅", "living room"),
            ),
            (("长住", "long stay"), ("家庭", "family"), ("可做饭", "self-catering")),
            ("00:00-24:00",),
        ),
        Category(
            "resort",
            ("度假酒店", "Resort"),
            "premium",
            (700, 2200),
            (
                ("度假酒店", "resort"),
                ("度假村", "holiday resort"),
                ("温泉酒店", "hot spring hotel"),
            ),
            (("度假村", "Resort"), ("温泉酒店", "Hot Spring Hotel"), ("度假酒店", "Resort Hotel")),
            (
                ("温泉", "hot spring"),
                ("亲子乐园", "kids club"),
                ("私人沙滩", "private beach"),
                ("高尔夫", "golf"),
            ),
            (("度假", "getaway"), ("亲子", "family"), ("放松", "relaxing")),
            ("00:00-24:00",),
        ),
    ),
    features=(
        Feature("free_parking", ("免费停车", "free parking"), 0.45),
        Feature("breakfast", ("含早餐", "breakfast included"), 0.5),
        Feature("pool", ("游泳池", "pool"), 0.2),
        Feature("gym", ("健身房", "gym"), 0.3),
        Feature("pet_friendly", ("可携带宠物", "pet-friendly"), 0.12),
    ),
    prefixes=(
        ("悦居", "Yueju"),
        ("云栖", "Cloud Rest"),
        ("星程", "Starway"),
        ("君澜", "Junlan"),
        ("漫心", "Manxin"),
        ("花间", "Blossom"),
        ("城际", "Intercity"),
        ("锦程", "Jincheng"),
        ("山水", "Shanshui"),
        ("如家乐", "Homely"),
        ("海岸", "Coastline"),
        ("枫林", "Maple"),
    ),
    title_format=("{p}{n}", "{p} {n}"),
    detail_key="amenities",
    detail_label=("设施", "Amenities"),
    verbs=("预订", "book"),
    complements={},
    activity=0.25,
    hour_weights=_EVENING_HOURS,
    cart_rate=0.2,
    direct_order_rate=0.18,
    quantity=(1, 4),
    extra_fee=(0.0, 0.0),
)

MOVIE_TICKETS = Domain(
    name="movie_tickets",
    code="mv",
    categories=(
        Category(
            "scifi",
            ("科幻", "Sci-Fi"),
            "spectacle",
            (45, 110),
            (
                ("科幻片", "sci-fi movie"),
                ("科幻电影", "science fiction film"),
                ("太空电影", "space movie"),
            ),
            (
                ("流浪星河", "Wandering Stars"),
                ("深空回响", "Echoes of Deep Space"),
                ("零点坐标", "Coordinate Zero"),
                ("银河守夜人", "Galaxy Night Watch"),
            ),
            (
                ("19:30场", "19:30 show"),
                ("21:45场", "21:45 show"),
                ("14:10场", "14:10 show"),
            ),
            (("特效", "visual effects"), ("大片", "blockbuster"), ("科幻", "sci-fi")),
            ("09:00-02:00",),
        ),
        Category(
            "action",
            ("动作", "Action"),
            "spectacle",
            (40, 100),
            (
                ("动作片", "action movie"),
                ("枪战片", "shoot-'em-up"),
                ("武侠片", "martial arts movie"),
            ),
            (
                ("破晓行动", "Operation Daybreak"),
                ("江湖令", "Order of the Jianghu"),
                ("极速追击", "Full Throttle"),
                ("无声狙击", "Silent Sniper"),
            ),
            (
                ("20:00场", "20:00 show"),
                ("22:10场", "22:10 show"),
                ("16:30场", "16:30 show"),
            ),
            (("动作", "action"), ("大片", "blockbuster"), ("刺激", "thrilling")),
            ("09:00-02:00",),
        ),
        Category(
            "comedy",
            ("喜剧", "Comedy"),
            "light",
            (35, 80),
            (("喜剧片", "comedy"), ("搞笑电影", "funny movie"), ("贺岁片", "new-year comedy")),
            (
                ("欢乐一家亲", "One Happy Family"),
                ("乌龙侦探", "Bumbling Detective"),
                ("我的邻居是明星", "My Neighbour the Star"),
                ("囧途归乡", "Trip Home Gone Wrong"),
            ),
            (
                ("18:40场", "18:40 show"),
                ("13:20场", "13:20 show"),
                ("20:50场", "20:50 show"),
            ),
            (("搞笑", "funny"), ("合家欢", "family"), ("轻松", "light-hearted")),
            ("09:00-24:00",),
        ),
        Category(
            "animation",
            ("动画", "Animation"),
            "light",
            (35, 80),
            (("动画片", "animated movie"), ("动画电影", "animation"), ("儿童电影", "kids movie")),
            (
                ("小熊历险记", "Little Bear's Adventure"),
                ("哪吒归来", "Nezha Returns"),
                ("云端王国", "Kingdom in the Clouds"),
                ("猫咪侦探社", "Cat Detective Club"),
            ),
            (
                ("10:30场", "10:30 show"),
                ("15:00场", "15:00 show"),
                ("17:20场", "17:20 show"),
            ),
            (("亲子", "family"), ("动画", "animation"), ("治愈", "heart-warming")),
            ("09:00-23:00",),
        ),
        Category(
            "romance",
            ("爱情", "Romance"),
            "story",
            (35, 85),
            (("爱情片", "romance movie"), ("爱情电影", "love story"), ("约会电影", "date movie")),
            (
                ("你好，旧时光", "Hello, Old Days"),
                ("雨季来信", "Letters in the Rain"),
                ("再见夏天", "Goodbye Summer"),
                ("南方的海", "Southern Sea"),
            ),
            (
                ("19:10场", "19:10 show"),
                ("21:20场", "21:20 show"),
                ("14:40场", "14:40 show"),
            ),
            (("浪漫", "romantic"), ("约会", "date night"), ("催泪", "tear-jerker")),
            ("09:00-24:00",),
        ),
        Category(
            "thriller",
            ("悬疑", "Thriller"),
            "story",
            (40, 90),
            (("悬疑片", "thriller"), ("推理电影", "mystery movie"), ("犯罪片", "crime movie")),
            (
                ("消失的证人", "The Missing Witness"),
                ("第十三号房", "Room Thirteen"),
                ("暗流", "Undercurrent"),
                ("雾城疑案", "The Fog City Case"),
            ),
            (
                ("20:30场", "20:30 show"),
                ("22:40场", "22:40 show"),
                ("16:00场", "16:00 show"),
            ),
            (("烧脑", "mind-bending"), ("反转", "twist ending"), ("紧张", "tense")),
            ("09:00-02:00",),
        ),
        Category(
            "drama",
            ("剧情", "Drama"),
            "story",
            (35, 80),
            (("剧情片", "drama"), ("文艺片", "art-house film"), ("传记片", "biopic")),
            (
                ("山海之间", "Between Mountains and Sea"),
                ("父亲的船", "Father's Boat"),
                ("长夜将明", "Before the Dawn"),
                ("小城故事", "Small Town Story"),
            ),
            (
                ("18:00场", "18:00 show"),
                ("20:15场", "20:15 show"),
                ("12:30场", "12:30 show"),
            ),
            (("感人", "moving"), ("口碑", "acclaimed"), ("现实", "realist")),
            ("09:00-24:00",),
        ),
        Category(
            "documentary",
            ("纪录片", "Documentary"),
            "story",
            (30, 60),
            (
                ("纪录片", "documentary"),
                ("自然纪录片", "nature documentary"),
                ("纪实电影", "non-fiction film"),
            ),
            (
                ("地球脉动", "Pulse of the Earth"),
                ("长江之歌", "Song of the Yangtze"),
                ("熊猫日记", "Panda Diaries"),
                ("深海", "The Deep"),
            ),
            (
                ("11:00场", "11:00 show"),
                ("15:40场", "15:40 show"),
                ("19:50场", "19:50 show"),
            ),
            (("自然", "nature"), ("知识", "educational"), ("震撼", "stunning")),
            ("09:00-23:00",),
        ),
    ),
    features=(
        Feature("imax", ("IMAX", "IMAX"), 0.25),
        Feature("3d", ("3D", "3D"), 0.35),
        Feature("dolby", ("杜比全景声", "Dolby Atmos"), 0.3),
        Feature("vip_hall", ("VIP厅", "VIP hall"), 0.15),
    ),
    prefixes=(
        ("星光影城", "Starlight Cinema"),
        ("银河国际影城", "Galaxy International Cinema"),
        ("万象影院", "Vientiane Cinemas"),
        ("时代电影城", "Times Cineplex"),
        ("大地影院", "Dadi Cinema"),
        ("金逸影城", "Golden Leisure Cinema"),
        ("横店影城", "Hengdian Cinema"),
        ("百老汇影城", "Broadway Cinema"),
    ),
    title_format=("{n} · {p}", "{n} · {p}"),
    detail_key="showtimes",
    detail_label=("场次", "Showtimes"),
    verbs=("看", "watch"),
    complements={"spectacle": ("light",), "light": ("spectacle",)},
    activity=0.35,
    hour_weights=_EVENING_HOURS,
    cart_rate=0.3,
    direct_order_rate=0.2,
    quantity=(1, 4),
    extra_fee=(0.0, 4.0),
)

GROCERY = Domain(
    name="grocery",
    code="gr",
    categories=(
        Category(
            "fruit",
            ("水果", "Fresh Fruit"),
            "fresh",
            (8, 80),
            (("水果", "fruit"), ("新鲜水果", "fresh fruit"), ("果切", "cut fruit")),
            (
                ("阳光玫瑰葡萄", "Shine Muscat Grapes"),
                ("赣南脐橙", "Gannan Navel Oranges"),
                ("海南芒果", "Hainan Mangoes"),
                ("红富士苹果", "Fuji Apples"),
            ),
            (
                ("500g装", "500 g pack"),
                ("1kg装", "1 kg box"),
                ("礼盒装", "gift box"),
                ("果切盒", "cut-fruit cup"),
            ),
            (("新鲜", "fresh"), ("当季", "in season"), ("甜", "sweet")),
            ("07:00-23:00",),
        ),
        Category(
            "vegetables",
            ("蔬菜", "Vegetables"),
            "fresh",
            (3, 30),
            (("蔬菜", "vegetables"), ("青菜", "greens"), ("时蔬", "seasonal veg")),
            (
                ("有机菠菜", "Organic Spinach"),
                ("西兰花", "Broccoli"),
                ("小番茄", "Cherry Tomatoes"),
                ("土豆", "Potatoes"),
            ),
            (
                ("300g", "300 g"),
                ("500g", "500 g"),
                ("一把", "one bunch"),
                ("家庭装", "family pack"),
            ),
            (("新鲜", "fresh"), ("家常", "everyday"), ("健康", "healthy")),
            ("07:00-23:00",),
        ),
        Category(
            "meat",
            ("肉禽", "Meat & Poultry"),
            "protein",
            (20, 120),
            (("猪肉", "pork"), ("鸡肉", "chicken"), ("牛肉", "beef")),
            (
                ("黑猪五花肉", "Black Pork Belly"),
                ("鸡胸肉", "Chicken Breast"),
                ("澳洲肥牛卷", "Australian Beef Slices"),
                ("鸡翅中", "Chicken Wings"),
            ),
            (("300g", "300 g"), ("500g", "500 g"), ("冷鲜", "chilled"), ("冷冻", "frozen")),
            (("冷鲜", "chilled"), ("高蛋白", "high protein"), ("家常", "everyday")),
            ("07:00-22:00",),
        ),
        Category(
            "seafood",
            ("海鲜", "Seafood"),
            "protein",
            (30, 200),
            (("海鲜", "seafood"), ("虾", "shrimp"), ("鱼", "fish")),
            (
                ("鲜活基围虾", "Live Prawns"),
                ("三文鱼刺身", "Salmon Sashimi"),
                ("大闸蟹", "Hairy Crabs"),
                ("鲈鱼", "Sea Bass"),
            ),
            (("500g", "500 g"), ("鲜活", "live"), ("冰鲜", "iced"), ("4只装", "pack of 4")),
            (("鲜活", "live"), ("高端", "premium"), ("海鲜", "seafood")),
            ("08:00-21:00",),
        ),
        Category(
            "dairy",
            ("乳品", "Dairy"),
            "pantry",
            (6, 60),
            (("牛奶", "milk"), ("酸奶", "yogurt"), ("奶酪", "cheese")),
            (
                ("全脂鲜牛奶", "Whole Fresh Milk"),
                ("希腊酸奶", "Greek Yogurt"),
                ("马苏里拉奶酪", "Mozzarella"),
                ("低脂牛奶", "Low-fat Milk"),
            ),
            (
                ("950ml", "950 ml"),
                ("4杯装", "4-cup pack"),
                ("200g", "200 g"),
                ("整箱", "whole case"),
            ),
            (("早餐", "breakfast"), ("冷藏", "chilled"), ("高钙", "high calcium")),
            ("07:00-23:00",),
        ),
        Category(
            "snacks",
            ("零食", "Snacks"),
            "treats",
            (5, 60),
            (("零食", "snacks"), ("薯片", "chips"), ("坚果", "nuts")),
            (
                ("每日坚果", "Daily Nuts"),
                ("原味薯片", "Classic Chips"),
                ("海苔脆", "Seaweed Crisps"),
                ("牛肉干", "Beef Jerky"),
            ),
            (
                ("小包装", "snack size"),
                ("家庭装", "family pack"),
                ("礼包", "gift pack"),
                ("30袋", "30 bags"),
            ),
            (("追剧", "movie night"), ("解馋", "treat"), ("办公室", "office")),
            ("07:00-24:00",),
        ),
        Category(
            "beverages",
            ("饮料", "Beverages"),
            "treats",
            (3, 80),
            (("饮料", "drinks"), ("矿泉水", "water"), ("啤酒", "beer")),
            (
                ("天然矿泉水", "Mineral Water"),
                ("无糖茶饮", "Sugar-free Tea"),
                ("精酿啤酒", "Craft Beer"),
                ("气泡水", "Sparkling Water"),
            ),
            (
                ("550ml", "550 ml"),
                ("12瓶整箱", "case of 12"),
                ("6罐装", "6-pack"),
                ("1.5L", "1.5 L"),
            ),
            (("解渴", "refreshing"), ("冰镇", "ice-cold"), ("聚会", "party")),
            ("07:00-24:00",),
        ),
        Category(
            "household",
            ("日用品", "Household"),
            "home",
            (8, 120),
            (("日用品", "household goods"), ("纸巾", "tissues"), ("洗衣液", "laundry detergent")),
            (
                ("抽纸", "Facial Tissues"),
                ("洗衣液", "Laundry Detergent"),
                ("洗洁精", "Dish Soap"),
                ("垃圾袋", "Bin Bags"),
            ),
            (("3包装", "3-pack"), ("2kg", "2 kg"), ("补充装", "refill"), ("大容量", "large size")),
            (("家用", "home"), ("囤货", "stock up"), ("实惠", "good value")),
            ("07:00-23:00",),
        ),
    ),
    features=(
        Feature("organic", ("有机", "organic"), 0.3, ("fruit", "vegetables", "meat", "dairy")),
        Feature("imported", ("进口", "imported"), 0.25),
        Feature("on_sale", ("特价", "on sale"), 0.3),
        Feature("express", ("30分钟达", "30-min delivery"), 0.4),
    ),
    prefixes=(
        ("鲜丰", "Xianfeng"),
        ("盒马优选", "Hema Select"),
        ("农夫优品", "Farmer's Best"),
        ("每日鲜", "Daily Fresh"),
        ("绿源", "Green Source"),
        ("百果园", "Orchard"),
        ("佳美", "Jiamei"),
        ("优选", "Select"),
    ),
    title_format=("{p} {n}", "{p} {n}"),
    detail_key="pack_options",
    detail_label=("规格", "Pack options"),
    verbs=("买", "buy"),
    complements={"treats": ("treats",), "protein": ("fresh",), "fresh": ("protein",)},
    activity=0.6,
    hour_weights=_DAY_HOURS,
    cart_rate=0.6,
    direct_order_rate=0.05,
    quantity=(1, 5),
    extra_fee=(0.0, 5.0),
)

BEAUTY_SALON = Domain(
    name="beauty_salon",
    code="bs",
    categories=(
        Category(
            "haircut",
            ("理发", "Haircut"),
            "hair",
            (30, 200),
            (("理发", "haircut"), ("剪发", "hair trim"), ("发型设计", "hair styling")),
            (("美发沙龙", "Hair Salon"), ("发型工作室", "Hair Studio"), ("理发店", "Barber")),
            (
                ("洗剪吹", "wash, cut and blow-dry"),
                ("男士精剪", "men's cut"),
                ("造型设计", "styling"),
                ("刘海修剪", "fringe trim"),
            ),
            (("发型", "hairstyle"), ("快速", "quick"), ("口碑", "well reviewed")),
            ("10:00-21:00", "09:30-22:00"),
        ),
        Category(
            "hair_color",
            ("染烫", "Color & Perm"),
            "hair",
            (180, 900),
            (("染发", "hair colouring"), ("烫发", "perm"), ("挑染", "highlights")),
            (
                ("染烫工作室", "Color Studio"),
                ("美发沙龙", "Hair Salon"),
                ("发色研究所", "Color Lab"),
            ),
            (
                ("时尚染发", "fashion colour"),
                ("空气烫", "air perm"),
                ("挑染", "highlights"),
                ("护发疗程", "hair treatment"),
            ),
            (("时尚", "trendy"), ("发色", "hair colour"), ("护发", "hair care")),
            ("10:00-21:00",),
        ),
        Category(
            "nails",
            ("美甲", "Nails"),
            "hands",
            (80, 400),
            (("美甲", "nails"), ("美甲店", "nail salon"), ("手部护理", "hand care")),
            (
                ("美甲工作室", "Nail Studio"),
                ("美甲美睫", "Nails & Lashes"),
                ("指尖艺术", "Nail Art"),
            ),
            (
                ("纯色美甲", "gel manicure"),
                ("法式美甲", "french manicure"),
                ("手部护理", "hand care"),
                ("卸甲", "gel removal"),
            ),
            (("精致", "refined"), ("拍照", "photogenic"), ("日式", "Japanese-style")),
            ("10:00-22:00",),
        ),
        Category(
            "lashes",
            ("美睫", "Eyelashes"),
            "hands",
            (120, 500),
            (("美睫", "eyelash extensions"), ("嫁接睫毛", "lash extensions"), ("睫毛", "lashes")),
            (("美睫馆", "Lash Bar"), ("美甲美睫", "Nails & Lashes"), ("睫毛工作室", "Lash Studio")),
            (
                ("自然款嫁接", "natural lash set"),
                ("浓密款嫁接", "volume lash set"),
                ("睫毛卸除", "lash removal"),
                ("角蛋白翘睫", "lash lift"),
            ),
            (("自然", "natural"), ("持久", "long-lasting"), ("精致", "refined")),
            ("10:00-21:00",),
        ),
        Category(
            "facial",
            ("面部护理", "Facial"),
            "skin",
            (150, 800),
            (("面部护理", "facial"), ("皮肤管理", "skin care"), ("清洁", "deep cleansing")),
            (
                ("皮肤管理中心", "Skin Care Centre"),
                ("美容院", "Beauty Parlour"),
                ("焕颜会所", "Glow Club"),
            ),
            (
                ("深层清洁", "deep cleansing"),
                ("补水护理", "hydrating facial"),
                ("小气泡", "hydrafacial"),
                ("肩颈放松", "neck and shoulder relax"),
            ),
            (("补水", "hydrating"), ("焕肤", "glow"), ("放松", "relaxing")),
            ("10:00-21:30",),
        ),
        Category(
            "massage",
            ("按摩", "Massage"),
            "wellness",
            (100, 500),
            (("按摩", "massage"), ("足疗", "foot massage"), ("推拿", "tuina")),
            (("养生馆", "Wellness House"), ("足道", "Foot Spa"), ("推拿馆", "Tuina Clinic")),
            (
                ("全身推拿", "full-body tuina"),
                ("足疗", "foot reflexology"),
                ("精油按摩", "aromatherapy massage"),
                ("拔罐", "cupping"),
            ),
            (("放松", "relaxing"), ("解乏", "relieves fatigue"), ("养生", "wellness")),
            ("11:00-02:00", "12:00-24:00"),
        ),
        Category(
            "spa",
            ("SPA", "Spa"),
            "wellness",
            (280, 1500),
            (("SPA", "spa"), ("水疗", "spa day"), ("泰式按摩", "thai massage")),
            (("水疗会所", "Spa Club"), ("SPA馆", "Spa"), ("温泉水疗", "Thermal Spa")),
            (
                ("泰式SPA", "thai spa"),
                ("热石理疗", "hot stone therapy"),
                ("双人SPA", "couples spa"),
                ("香薰SPA", "aroma spa"),
            ),
            (("高端", "premium"), ("放松", "relaxing"), ("情侣", "couples")),
            ("11:00-24:00",),
        ),
        Category(
            "makeup",
            ("化妆", "Makeup"),
            "skin",
            (150, 1200),
            (("化妆", "makeup"), ("跟妆", "event makeup"), ("新娘妆", "bridal makeup")),
            (
                ("化妆工作室", "Makeup Studio"),
                ("造型工作室", "Styling Studio"),
                ("妆容馆", "Makeup Bar"),
            ),
            (
                ("日常妆", "everyday makeup"),
                ("新娘跟妆", "bridal makeup"),
                ("拍照妆", "photo-shoot makeup"),
                ("发型盘发", "updo"),
            ),
            (("精致", "refined"), ("婚礼", "wedding"), ("拍照", "photo shoot")),
            ("09:00-20:00",),
        ),
    ),
    features=(
        Feature("walk_in", ("免预约", "walk-in"), 0.35),
        Feature("parking", ("可停车", "parking"), 0.35),
        Feature("open_late", ("夜间营业", "open late"), 0.25),
        Feature(
            "mens",
            ("男士可做", "men welcome"),
            0.5,
            ("haircut", "hair_color", "facial", "massage", "spa"),
        ),
    ),
    prefixes=(
        ("丝域", "Silk Realm"),
        ("悦美", "Yuemei"),
        ("木子", "Muzi"),
        ("蔻驰", "Kochi"),
        ("禅意", "Zen"),
        ("花漾", "Blooming"),
        ("名匠", "Master Craft"),
        ("素颜", "Bare Face"),
        ("简约", "Simple"),
    ),
    title_format=("{p}{n}", "{p} {n}"),
    detail_key="services",
    detail_label=("项目", "Services"),
    verbs=("预约", "book"),
    complements={
        "hair": ("skin",),
        "hands": ("skin",),
        "skin": ("hands", "wellness"),
        "wellness": ("skin",),
    },
    activity=0.25,
    hour_weights=_DAY_HOURS,
    cart_rate=0.25,
    direct_order_rate=0.15,
    quantity=(1, 2),
    extra_fee=(0.0, 0.0),
)

DOMAINS: dict[str, Domain] = {
    d.name: d for d in (FOOD_DELIVERY, HOTEL, MOVIE_TICKETS, GROCERY, BEAUTY_SALON)
}


def category_translations(domain: Domain) -> dict[str, str]:
    """Each category label as written into items.category -> the same category in the other
    language (both ways)."""
    out: dict[str, str] = {}
    for c in domain.categories:
        zh, en = c.name
        if zh != en:
            out[zh], out[en] = en, zh
    return out


def get_domain(name: str) -> Domain:
    try:
        return DOMAINS[name]
    except KeyError:
        raise ValueError(f"unknown domain {name!r}; known: {', '.join(DOMAINS)}") from None
