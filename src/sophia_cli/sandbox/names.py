"""Realistic name pools for the synthetic company; plain data, no logic beyond picking."""

from __future__ import annotations

import random

OUR_COMPANY = "Brightline Analytics"
OUR_DOMAIN = "brightline.io"

FIRST_NAMES = (
    "Dana",
    "Maria",
    "James",
    "Priya",
    "Liam",
    "Sofia",
    "Noah",
    "Aisha",
    "Ethan",
    "Chloe",
    "Lucas",
    "Mei",
    "Oliver",
    "Hannah",
    "Mateo",
    "Grace",
    "Daniel",
    "Fatima",
    "Samuel",
    "Emma",
    "Ryan",
    "Nina",
    "Omar",
    "Julia",
    "Kenji",
    "Laura",
    "Victor",
    "Zoe",
    "Marcus",
    "Isabel",
    "Tom",
    "Ava",
    "Diego",
    "Elena",
    "Henry",
    "Leah",
    "Arjun",
    "Clara",
    "Felix",
    "Rosa",
    "Ben",
    "Yuki",
    "Carlos",
    "Megan",
    "Ivan",
    "Sara",
    "Kwame",
    "Anna",
    "Leo",
    "Ruth",
)
LAST_NAMES = (
    "Lee",
    "Lopez",
    "Carter",
    "Patel",
    "Nguyen",
    "Rossi",
    "Kim",
    "Okafor",
    "Schmidt",
    "Dubois",
    "Silva",
    "Chen",
    "Murphy",
    "Cohen",
    "Garcia",
    "Walsh",
    "Tanaka",
    "Haddad",
    "Brooks",
    "Novak",
    "Martin",
    "Singh",
    "Fischer",
    "Moreau",
    "Costa",
    "Ali",
    "Jensen",
    "Park",
    "Reyes",
    "Turner",
    "Khan",
    "Meyer",
    "Adams",
    "Rivera",
    "Sato",
    "Evans",
    "Ibrahim",
    "Young",
    "Larsen",
    "Baker",
)
FAMOUS_COMPANIES = (
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Corp",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Wonka Industries",
    "Cyberdyne Systems",
    "Soylent Co",
    "Vandelay Industries",
    "Massive Dynamic",
    "Pied Piper",
    "Dunder Mifflin",
    "Tyrell Corp",
    "Oscorp",
)
COMPANY_WORDS = (
    "Northwind",
    "Blue Harbor",
    "Summit",
    "Redwood",
    "Silverline",
    "Ironbridge",
    "Crescent",
    "Evergreen",
    "Bright Falls",
    "Cedar",
    "Granite",
    "Harbor Point",
    "Keystone",
    "Lakeside",
    "Meridian",
    "Oakridge",
    "Pinnacle",
    "Quantum",
    "Riverside",
    "Sterling",
    "Trident",
    "Vista",
    "Willow",
    "Zenith",
    "Atlas",
    "Beacon",
    "Cobalt",
    "Delta",
    "Falcon",
    "Horizon",
    "Juniper",
    "Lumen",
    "Nova",
    "Orion",
    "Polaris",
    "Sequoia",
    "Tandem",
    "Vertex",
    "Westfield",
    "Aurora",
)
COMPANY_SUFFIXES = (
    "Logistics",
    "Health",
    "Financial",
    "Retail",
    "Labs",
    "Systems",
    "Energy",
    "Foods",
    "Insurance",
    "Media",
    "Manufacturing",
    "Software",
    "Partners",
    "Bank",
    "Telecom",
    "Group",
)
INDUSTRIES = (
    "COMPUTER_SOFTWARE",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "RETAIL",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "MARKETING_AND_ADVERTISING",
    "EDUCATION_MANAGEMENT",
    "CONSTRUCTION",
    "TELECOMMUNICATIONS",
    "INSURANCE",
    "FOOD_BEVERAGES",
    "UTILITIES",
)
DEAL_PRODUCTS = (
    "Platform license",
    "Renewal",
    "Expansion",
    "Analytics add-on",
    "Pilot",
    "Data connectors",
    "Premium support",
    "Multi-year renewal",
    "Seat upgrade",
    "Onboarding package",
)
PROJECT_NAMES = (
    "Q3 Website Relaunch",
    "Customer Onboarding Playbook",
    "Data Platform Migration",
    "Pricing Page Refresh",
    "SOC 2 Audit",
    "Customer Health Dashboard",
    "Partner Program",
    "Mobile App v2",
    "Churn Reduction",
    "Sales Enablement",
    "Brand Refresh",
    "Support Knowledge Base",
    "Warehouse Cost Review",
    "EMEA Expansion",
    "Self-serve Signup",
)
TEAMS = ("Engineering", "Marketing", "Customer Success", "Sales Ops", "Product")
TASK_VERBS = (
    "Draft",
    "Review",
    "Update",
    "Ship",
    "Fix",
    "Plan",
    "Write",
    "Migrate",
    "Audit",
    "Design",
    "Test",
    "Document",
    "Prepare",
    "Follow up on",
    "Clean up",
)
TASK_OBJECTS = (
    "pricing page copy",
    "onboarding email sequence",
    "QBR deck for Acme Corp",
    "SSO configuration guide",
    "renewal forecast",
    "churn dashboard",
    "API rate-limit docs",
    "security questionnaire",
    "release notes",
    "customer interview notes",
    "demo environment",
    "Salesforce sync mapping",
    "win/loss analysis",
    "partner agreement",
    "support macros",
    "invoice reminders",
    "data retention policy",
    "NPS survey results",
    "trial conversion funnel",
)
CHANNELS = (
    # name, private, bot is member, archived
    ("general", False, True, False),
    ("sales", False, True, False),
    ("deals-desk", False, True, False),
    ("customer-success", False, True, False),
    ("engineering", False, True, False),
    ("product", False, True, False),
    ("marketing", False, True, False),
    ("support-escalations", False, True, False),
    ("leadership", True, True, False),
    ("q1-launch-archive", False, True, True),
    ("watercooler", False, False, False),
)


def unique_people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` distinct (first, last) pairs; the first is always Dana Lee."""
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES if (f, last) != ("Dana", "Lee")]
    rng.shuffle(pairs)
    return [("Dana", "Lee"), *pairs[: max(0, count - 1)]]


def company_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct, plausible company names, the well-known ones first."""
    generated = [f"{w} {s}" for w in COMPANY_WORDS for s in COMPANY_SUFFIXES]
    rng.shuffle(generated)
    names = [*FAMOUS_COMPANIES, *generated]
    while len(names) < count:  # very large scales: numbered divisions keep names unique
        names.append(f"{generated[len(names) % len(generated)]} {len(names)}")
    return names[:count]


def domain_for(company: str) -> str:
    """A web domain derived from a company name: 'Acme Corp' -> 'acmecorp.com'."""
    return "".join(ch for ch in company.lower() if ch.isalnum()) + ".com"


def email_for(first: str, last: str, domain: str) -> str:
    """first.last@domain, lower case."""
    return f"{first}.{last}@{domain}".lower().replace(" ", "")
