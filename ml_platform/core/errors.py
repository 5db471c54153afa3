"""Errors that are meant to be read by a person, not a stack trace."""


class InvalidInputError(ValueError):
    """Input a caller gave us is wrong; the message names the file/field/row and what was expected."""
