"""Small word lists the generator draws names and titles from."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Mia", "Lucas",
    "Amelia", "Mateo", "Harper", "Levi", "Evelyn", "Ezra", "Luna", "Leo", "Chloe", "Arjun",
    "Priya", "Sofia", "Kenji", "Yuki", "Fatima", "Omar", "Ingrid", "Lars", "Chiara", "Marco",
    "Zoe", "Jonas", "Amara", "Kwame", "Nadia", "Tomas", "Elena", "Hugo", "Maya", "Felix",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Garcia", "Brown", "Jones", "Miller", "Davis", "Martinez", "Lopez",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Lee", "Clark", "Lewis",
    "Walker", "Young", "Patel", "Nguyen", "Kim", "Tanaka", "Rossi", "Muller", "Novak",
    "Jensen", "Silva", "Okafor", "Haddad", "Kowalski", "Dubois", "Larsen", "Costa", "Ahmed",
    "Fischer", "Moreau", "Santos", "Berg",
)  # fmt: skip
SUPPLIERS: tuple[str, ...] = (
    "Northwind Trading", "Alpine Goods", "Harbor Supply", "Cedar & Co", "Bluebird Wholesale",
    "Summit Outfitters", "Meadow Foods", "Urban Loom", "Brightside Toys", "Ironleaf Home",
    "Pacific Paper", "Copperline Electronics", "Golden Grain", "Silverfern Beauty",
    "Redwood Books", "Lakeside Kitchenware", "Stonebridge Footwear", "Willow Textiles",
    "Evergreen Outdoor", "Maple Distribution", "Orchard Provisions", "Coastal Crafts",
)  # fmt: skip
ADJECTIVES: tuple[str, ...] = (
    "Classic", "Everyday", "Premium", "Organic", "Compact", "Deluxe", "Vintage", "Modern",
    "Essential", "Heritage", "Nordic", "Urban", "Coastal", "Rustic", "Bright", "Soft",
)  # fmt: skip
NOUNS: dict[str, tuple[str, ...]] = {
    "apparel": ("T-Shirt", "Hoodie", "Jacket", "Jeans", "Dress", "Sweater", "Scarf", "Shirt"),
    "footwear": ("Sneakers", "Boots", "Sandals", "Loafers", "Trail Shoes", "Slippers"),
    "accessories": ("Tote Bag", "Wallet", "Belt", "Sunglasses", "Cap", "Watch Strap"),
    "home": ("Candle", "Throw Blanket", "Cushion", "Vase", "Lamp", "Picture Frame"),
    "kitchen": ("Chef Knife", "Skillet", "Mug Set", "Cutting Board", "Teapot", "Mixing Bowl"),
    "beauty": ("Face Cream", "Shampoo", "Lip Balm", "Body Lotion", "Soap Bar", "Serum"),
    "books": ("Cookbook", "Novel", "Travel Guide", "Notebook Journal", "Picture Book"),
    "toys": ("Puzzle", "Building Set", "Plush Bear", "Board Game", "Kite", "Train Set"),
    "outdoor": ("Tent", "Backpack", "Water Bottle", "Camping Chair", "Headlamp", "Cooler"),
    "electronics": ("Earbuds", "Speaker", "Power Bank", "Charger", "Smart Plug", "Keyboard"),
    "grocery": ("Coffee Beans", "Olive Oil", "Granola", "Green Tea", "Dark Chocolate", "Honey"),
    "stationery": ("Pen Set", "Sketchbook", "Planner", "Sticky Notes", "Marker Set"),
}
CONTENT_TITLES: dict[str, tuple[str, ...]] = {
    "article": (
        "How to choose the right {topic}",
        "What's new: {topic}",
        "Caring for your {topic}",
        "Gift ideas: {topic}",
        "A buyer's guide to {topic}",
    ),
    "video": (
        "{topic}: unboxing and first look",
        "Styling {topic} three ways",
        "Behind the scenes: {topic}",
        "Quick tips for {topic}",
    ),
}
