"""Errors that the command line turns into one line and exit code 2."""


class InputError(ValueError):
    """Bad user input: a file that is missing, corrupt or of the wrong shape, or a bad option.

    The message is one line; when a file is involved it starts with the file's path, so the
    CLI can print ``svrlens: error: <message>`` and exit with code 2.
    """

    def __init__(self, message: str, path=None):
        self.path = None if path is None else str(path)
        text = " ".join(str(message).split())  # one line, always
        super().__init__(f"{self.path}: {text}" if self.path else text)
