"""Vocabularies of the synthetic retail data: names, places, and the product catalogue."""

from __future__ import annotations

from typing import Final


def _split(text: str, separator: str | None = None) -> tuple[str, ...]:
    """Words (or `separator`-separated phrases) of a long literal, as a tuple."""
    return tuple(text.split(separator))


FIRST_NAMES: Final = _split(
    "Noah Emma Liam Olivia Mason Ava Ethan Sophia Lucas Mia James Amelia Omar Fatima Raj Mei "
    "Sofia Yusuf Aarav Chen Isabella Harper Evelyn Daiki Yara Ivan Lei Anya Mohamed Juan Sara "
    "Ahmed Emily Daniel Aiden Lily Ella Grace Hiroshi Priya Mateo Chloe Nadia Arjun Zoe Elena "
    "Kenji Amara Leo Ines",
)
LAST_NAMES: Final = _split(
    "Brown Smith Johnson Li Moore Khan Rossi Anderson Wilson Ahmed Lopez Thomas Martin Johansson "
    "Garcia Kim Nguyen Patel Silva Muller Santos Hernandez Jackson Taylor Lee Kovacs Gonzalez "
    "Davis Ito Sanchez Wright Clark Lewis Walker Hall Young Allen King Scott Green Baker Adams "
    "Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans",
)
STREETS: Final = _split(
    "River Road; Cedar Street; Chestnut Street; Elm Avenue; Elm Street; Broadway; Hickory Lane; "
    "Hillcrest Drive; Cedar Avenue; Main Street; Oak Street; Maple Drive; Pine Lane; "
    "Lakeview Drive; Willow Lane; Park Avenue; Sunset Drive; Spruce Street; Laurel Lane; "
    "Highland Drive; Forest Street; Lincoln Avenue",
    "; ",
)
# "city, state, first three zip digits"
CITIES: Final = _split(
    "New York, NY, 100; Los Angeles, CA, 900; San Francisco, CA, 941; San Diego, CA, 921; "
    "Chicago, IL, 606; Houston, TX, 770; Dallas, TX, 752; Austin, TX, 787; San Antonio, TX, 782; "
    "Phoenix, AZ, 850; Philadelphia, PA, 191; Pittsburgh, PA, 152; Jacksonville, FL, 322; "
    "Miami, FL, 331; Columbus, OH, 432; Charlotte, NC, 282; Seattle, WA, 981; Denver, CO, 802; "
    "Washington, DC, 203; Boston, MA, 021; Nashville, TN, 372; Portland, OR, 972; "
    "Las Vegas, NV, 891; Atlanta, GA, 303; Minneapolis, MN, 554; Detroit, MI, 482; "
    "Indianapolis, IN, 462",
    "; ",
)
CARD_BRANDS: Final = ("visa", "mastercard", "amex", "discover")
EMAIL_DOMAIN: Final = "example.com"

# (name, "option: value|value; option: value|...", lowest and highest base price in dollars)
PRODUCTS: Final[tuple[tuple[str, str, int, int], ...]] = (
    (
        "T-Shirt",
        "color: black|white|blue|red|green; size: S|M|L|XL|XXL; material: cotton|polyester"
        "; style: crew neck|v-neck",
        45,
        60,
    ),
    (
        "Water Bottle",
        "capacity: 500ml|750ml|1000ml; material: plastic|glass|stainless steel"
        "; color: blue|red|black|green",
        20,
        50,
    ),
    (
        "Office Chair",
        "material: fabric|leather|mesh; color: black|gray|blue; armrest: fixed|adjustable|none",
        300,
        550,
    ),
    (
        "Bookshelf",
        "material: metal|wood|glass; color: black|white|brown; height: 3 ft|4 ft|5 ft|6 ft",
        250,
        550,
    ),
    ("Action Camera", "resolution: 1080p|4K|5K; waterproof: yes|no; color: black|silver", 250, 550),
    (
        "Electric Kettle",
        "capacity: 1L|1.5L|2L; material: plastic|glass|stainless steel; color: white|black|silver",
        120,
        260,
    ),
    (
        "Hiking Boots",
        "size: 7|8|9|10|11|12; material: leather|synthetic; waterproof: yes|no",
        200,
        270,
    ),
    (
        "Skateboard",
        "deck material: maple|bamboo|plastic; length: 28 inch|31 inch|34 inch"
        "; design: plain|graphic|custom",
        120,
        220,
    ),
    (
        "Smart Thermostat",
        "compatibility: Google Assistant|Apple HomeKit|Amazon Alexa"
        "; color: black|white|stainless steel",
        220,
        270,
    ),
    (
        "Air Purifier",
        "room size: small|medium|large; filter type: HEPA|carbon|ionic"
        "; features: quiet operation|night mode|smart sensors",
        400,
        560,
    ),
    (
        "Dumbbell Set",
        "weight range: 5-25 lbs|30-50 lbs|55-75 lbs; material: iron|rubber|urethane"
        "; set type: fixed|adjustable",
        420,
        560,
    ),
    (
        "Garden Hose",
        "length: 25ft|50ft|100ft; material: rubber|vinyl|latex; color: green|blue|black",
        60,
        110,
    ),
    (
        "Perfume",
        "scent family: woody|fresh|oriental; size: 30ml|50ml|100ml; gender: men|women|unisex",
        200,
        320,
    ),
    (
        "Jigsaw Puzzle",
        "pieces: 500|1000|1500|2000; theme: animals|art|fantasy|landscape"
        "; difficulty level: beginner|intermediate|expert",
        40,
        60,
    ),
    (
        "Makeup Kit",
        "skin tone: light|medium|dark; kit size: basic|professional"
        "; brand: Brand A|Brand B|Brand C",
        220,
        270,
    ),
    (
        "Tablet",
        "screen size: 8-inch|10-inch|12-inch; storage: 64GB|128GB; color: black|silver|gold",
        900,
        3000,
    ),
    (
        "Espresso Machine",
        "pressure: 9 bar|15 bar|19 bar; capacity: 1L|1.5L|2L; type: manual|automatic|capsule",
        2500,
        3200,
    ),
    (
        "Tea Kettle",
        "material: stainless steel|glass|ceramic; capacity: 1 liter|1.5 liters|2 liters"
        "; stovetop compatibility: electric|gas|induction",
        80,
        140,
    ),
    (
        "Wireless Earbuds",
        "color: black|white|blue; battery life: 4 hours|6 hours|8 hours"
        "; water resistance: IPX4|IPX7|not resistant",
        70,
        260,
    ),
    (
        "Vacuum Cleaner",
        "type: upright|canister|robotic; bagged/bagless: bagged|bagless"
        "; features: pet hair removal|HEPA filter|cordless",
        480,
        650,
    ),
    (
        "Electric Toothbrush",
        "color: black|white|blue; speed settings: low|high"
        "; battery type: AA batteries|rechargeable",
        150,
        210,
    ),
    (
        "Portable Charger",
        "capacity: 5000mAh|10000mAh|20000mAh; output: USB-A|USB-C|Wireless"
        "; color: white|black|blue",
        50,
        140,
    ),
    (
        "Coffee Maker",
        "color: black|stainless steel; capacity: 1 cup|4 cups|8 cups"
        "; type: drip|french press|espresso; features: timer|built-in grinder|auto shutoff",
        180,
        300,
    ),
    (
        "Pet Bed",
        "size: small|medium|large; material: memory foam|polyester|fleece; color: beige|grey|brown",
        150,
        200,
    ),
    (
        "Laptop",
        "screen size: 13-inch|15-inch|17-inch; processor: i5|i7|i9; ram: 8GB|16GB|32GB"
        "; storage: 256GB SSD|512GB SSD|1TB SSD",
        1800,
        3000,
    ),
    (
        "Mechanical Keyboard",
        "switch type: linear|tactile|clicky; backlight: none|white|RGB; size: full size|80%|60%",
        130,
        280,
    ),
    (
        "Gaming Mouse",
        "color: black|white|RGB; sensor type: optical|laser; connectivity: wired|wireless",
        130,
        210,
    ),
    (
        "Headphones",
        "type: on-ear|over-ear|in-ear; connectivity: wired|wireless; color: black|white|blue|red",
        180,
        380,
    ),
    (
        "Running Shoes",
        "size: 8|9|10|11; color: black|white|red; material: mesh|leather|synthetic",
        80,
        200,
    ),
    (
        "Backpack",
        "color: black|grey|navy|green; size: small|medium|large"
        "; material: nylon|polyester|leather; compartment: laptop|hydration|camera",
        180,
        240,
    ),
    (
        "Desk Lamp",
        "color: black|white|silver; brightness: low|medium|high"
        "; power source: AC adapter|battery|USB",
        130,
        200,
    ),
    (
        "Bluetooth Speaker",
        "color: black|blue|red|green; battery life: 10 hours|20 hours; water resistance: yes|no",
        50,
        300,
    ),
    (
        "Sunglasses",
        "frame color: black|brown|silver|gold; lens color: black|brown|green|blue"
        "; lens type: polarized|non-polarized; frame material: plastic|metal",
        250,
        300,
    ),
    (
        "Yoga Mat",
        "thickness: 4mm|6mm|8mm; material: PVC|natural rubber|TPE; color: blue|green|pink|purple",
        90,
        120,
    ),
    (
        "Bicycle",
        "frame size: small|medium|large; color: black|blue|red|green; type: road|mountain|city",
        1300,
        1700,
    ),
    (
        "Smart Watch",
        "color: black|silver|gold; band material: silicone|leather|metal; display: AMOLED|LCD",
        300,
        400,
    ),
    (
        "Cycling Helmet",
        "size: S|M|L; color: black|white|blue|red; ventilation: low|medium|high",
        150,
        230,
    ),
    (
        "Indoor Security Camera",
        "resolution: 1080p|2K|4K; field of view: 110 degrees|130 degrees|160 degrees"
        "; connectivity: Wi-Fi|Ethernet",
        150,
        350,
    ),
    ("Fleece Jacket", "size: S|M|L|XL; color: black|navy|red; zipper: full|half", 90, 180),
    (
        "Digital Camera",
        "resolution: 20MP|24MP|30MP; zoom: 3x|5x|10x; storage: SD card|CF card",
        1900,
        3200,
    ),
    (
        "Grill",
        "type: electric|gas|charcoal; size: portable|medium|large"
        "; features: rotisserie|side burner|none",
        900,
        1200,
    ),
    (
        "Patio Umbrella",
        "size: 6 ft|7 ft|8 ft; color: red|green|blue|black"
        "; material: sunbrella|olefin|polyester; tilt mechanism: auto tilt|manual tilt",
        240,
        300,
    ),
    (
        "Luggage Set",
        "piece count: 2-piece|3-piece|4-piece; color: black|blue|red|silver"
        "; material: softshell|hardshell",
        280,
        600,
    ),
    (
        "Wristwatch",
        "strap material: leather|metal|silicone; dial color: black|white|blue",
        1800,
        2300,
    ),
    ("Notebook", "size: A4|A5; cover type: hard cover|soft cover", 30, 40),
    (
        "Desk Organizer",
        "size: small|medium|large; material: wood|plastic|metal; color: black|white|brown",
        40,
        110,
    ),
    (
        "Cookware Set",
        "material: stainless steel|cast iron|aluminum; piece count: 5-piece|8-piece|12-piece"
        "; coating: non-stick|none",
        280,
        360,
    ),
    (
        "Fleece Blanket",
        "size: throw|twin|queen|king; color: grey|beige|navy|red; pattern: solid|striped|plaid",
        40,
        120,
    ),
    (
        "Electric Guitar",
        "body type: solid|hollow; wood type: maple|mahogany|ash; color: sunburst|black|natural",
        900,
        1400,
    ),
    (
        "Smartphone",
        "color: black|silver|gold|blue; storage: 64GB|128GB|256GB; RAM: 4GB|6GB|8GB"
        "; screen size: 5.8-inch|6.1-inch|6.5-inch",
        700,
        1300,
    ),
)
