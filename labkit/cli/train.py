"""`labkit train` (being built)."""


def register(sub) -> None:
    sub.add_parser("train", help="(not yet available)").set_defaults(func=lambda args: 1)
