"""The services every host runs beside the sandboxes: the model server and the supervisor."""
