"""What every presenter says the same way: the JSON shapes (`serialise`) and the words for
times, sizes and facts (`text`), shared by the CLI, the report, the widgets and the alert hook."""
