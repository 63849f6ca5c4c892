"""Dialing sessions: an agent's run through the queue in a block (`dialsession`) and one dial (`dialing`)."""
