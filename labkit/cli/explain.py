"""`labkit explain` (being built)."""


def register(sub) -> None:
    sub.add_parser("explain", help="(not yet available)").set_defaults(func=lambda args: 1)
