"""What the maintenance steps produce with the app layer's code, registered in
`vigie.pipeline.maintenance.OUTPUTS` (one module each; the registry imports them on first use)."""
