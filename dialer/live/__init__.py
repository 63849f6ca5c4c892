"""The live floor: the event hub every screen listens to (`events`) and the coordinators' presence (`presence`)."""
