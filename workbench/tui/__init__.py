"""The Textual app. Screens and widgets call workbench.core; no platform logic here."""
