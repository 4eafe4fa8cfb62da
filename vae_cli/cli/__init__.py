"""The command line: argv in; stdout, stderr and exit codes out. Nothing below it knows about flags."""
