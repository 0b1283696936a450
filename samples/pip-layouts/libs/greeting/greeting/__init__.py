"""A library of the app's repository."""


def greet() -> str:
    return "Hello from pip's layouts."
