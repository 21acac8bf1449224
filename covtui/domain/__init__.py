"""The pure domain: coverage numbers, the data model and every rule, as functions of data."""
