"""Rasa input channels that route customer messages to the bot or to a human agent."""
