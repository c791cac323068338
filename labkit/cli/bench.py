"""`labkit bench` (being built)."""


def register(sub) -> None:
    sub.add_parser("bench", help="(not yet available)").set_defaults(func=lambda args: 1)
