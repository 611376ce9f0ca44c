"""IoT Workbench: a terminal workbench for the REST APIs of IoT clouds."""
