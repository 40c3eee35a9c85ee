"""Custom resource provider for Security Hub custom actions (``Custom::ActionTarget``)."""
