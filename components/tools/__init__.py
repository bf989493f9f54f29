"""What people and CI run beside `pulumi`: the spec CLI, the review of a change to the spec, and
the generator of Pulumi.yaml's `config:` block."""
