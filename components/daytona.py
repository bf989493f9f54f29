"""Where stacks created before the layout of components/planes/ find the Daytona provider.

Pulumi stores a dynamic provider in the state by its module path (dill pickles the class by
reference); refresh and destroy of such a stack load it from here. Kept while old state may
exist: tests/program/test_dynamic_providers_round_trip.py loads the blobs those stacks hold."""

from .planes.daytona.provider import DaytonaSandboxProvider

__all__ = ["DaytonaSandboxProvider"]
