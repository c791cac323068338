"""`labkit data` (being built)."""


def register(sub) -> None:
    sub.add_parser("data", help="(not yet available)").set_defaults(func=lambda args: 1)
