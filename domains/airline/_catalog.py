"""Vocabularies of the synthetic airline data: people, places and card brands."""

from __future__ import annotations

from typing import Final


def _split(text: str, separator: str | None = None) -> tuple[str, ...]:
    """Words (or `separator`-separated phrases) of a long literal, as a tuple."""
    return tuple(text.split(separator))


FIRST_NAMES: Final = _split(
    "Mia Mei Aarav Chen Lucas Sophia Liam Olivia Ava Emma Noah James Harper Evelyn Isabella "
    "Raj Omar Fatima Yusuf Amelia Ethan Mason Anya Juan Lei Ivan Yara Daiki Mohamed Sofia Emily "
    "Aiden Lily Grace Priya Mateo Chloe Nadia Arjun Zoe Elena Kenji Amara Leo Ines Hugo Layla",
)
LAST_NAMES: Final = _split(
    "Li Hernandez Nguyen Taylor Santos Smith Davis Jackson Rossi Garcia Lopez Wilson Moore "
    "Anderson Martin Khan Patel Kim Muller Brown Johnson Ahmed Thomas Silva Johansson Kovacs "
    "Gonzalez Ito Sanchez Wright Clark Lewis Walker Hall Young Allen King Scott Green Baker",
)
STREETS: Final = _split(
    "Sunset Drive; Elm Avenue; Cedar Street; Elm Street; Broadway; Pine Lane; Lakeview Drive; "
    "Maple Drive; Oak Street; River Road; Hillcrest Drive; Willow Lane; Park Avenue; "
    "Main Street; Chestnut Street; Highland Drive; Spruce Street; Lincoln Avenue",
    "; ",
)
# "city, state, first three zip digits"
CITIES: Final = _split(
    "Austin, TX, 787; Dallas, TX, 753; Houston, TX, 770; Los Angeles, CA, 914; "
    "San Francisco, CA, 941; San Diego, CA, 921; Philadelphia, PA, 190; Washington, DC, 204; "
    "Indianapolis, IN, 462; Charlotte, NC, 282; New York, NY, 100; Chicago, IL, 606; "
    "Denver, CO, 802; Seattle, WA, 981; Boston, MA, 021; Phoenix, AZ, 850; Miami, FL, 331; "
    "Atlanta, GA, 303; Orlando, FL, 328; Detroit, MI, 482; Minneapolis, MN, 554",
    "; ",
)
CARD_BRANDS: Final = ("visa", "mastercard")
CERTIFICATE_AMOUNTS: Final = (100, 150, 200, 250, 500)
EMAIL_DOMAIN: Final = "example.com"
