"""The one exception family the CLI turns into a one-line message and an exit code."""

EXIT_FAILURE = 1  # the command could not do its job (missing data, unreadable model ...)
EXIT_USAGE = 2  # the user asked for something invalid (bad config, bad flag value)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class VaeError(Exception):
    """A problem the user can fix; its message says what is wrong and how to fix it."""

    exit_code = EXIT_FAILURE


class ConfigError(VaeError):
    exit_code = EXIT_USAGE
