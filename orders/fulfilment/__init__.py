"""Fulfilment: the order's side of stock (allocation, shipment, closing short) and its pages."""
