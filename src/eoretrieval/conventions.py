"""Names shared across the library: dimensions, variables and unit strings (UDUNITS).

Everything that crosses a module boundary is labelled with these names, so a notebook can
pass the output of a reader straight into a forward operator or a metric.
"""

from __future__ import annotations

__all__ = [
    "TIME", "LAT", "LON", "Y", "X", "MEMBER", "CHANNEL", "SITE", "LEAD_TIME", "METRIC",
    "UNITS",
]

# dimensions
TIME = "time"
LAT = "lat"
LON = "lon"
Y = "y"
X = "x"
MEMBER = "member"
CHANNEL = "channel"
SITE = "site"
LEAD_TIME = "lead_time"
METRIC = "metric"

#: Unit strings used throughout (UDUNITS spelling).
UNITS = {
    "no2_column": "mol m-2",
    "no2_column_molec": "molec cm-2",
    "nox_emission": "mol m-2 s-1",
    "nox_emission_cell": "mol s-1",
    "wind": "m s-1",
    "lifetime": "h",
    "rain_rate": "mm h-1",
    "brightness_temperature": "K",
    "carbon_flux_daily": "g m-2 d-1",
    "carbon_flux": "umol m-2 s-1",
    "temperature_c": "degC",
    "par": "umol m-2 s-1",
    "shortwave": "W m-2",
    "vpd": "hPa",
}
