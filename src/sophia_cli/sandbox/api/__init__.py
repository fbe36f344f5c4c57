"""The sandbox's HTTP face: fake Slack, Asana, HubSpot and Gong APIs over the dataset."""
