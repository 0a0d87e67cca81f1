"""The colour and line of each pairing, and axis labels from a variable's attributes:
shared by every scripts/plot_*.py so that a pairing looks the same in every figure.

A pairing's look depends on its name only, never on which other pairings a file holds
or in what order: secure-secure is black in a sweep of two pairings and in a run of ten.
The ten pairings of the four standard styles have fixed entries; the same styles the
other way round (anxious-secure) share the colour with a long dash; any other name
(custom styles, `random`, `population`) gets a colour from partner a's style and a dash
from partner b's (STYLE_COLOURS, STYLE_DASHES; a custom style's by a CRC-32 of its name,
the same in every process, unlike Python's per-process salted hash() of a str).

Colours: Paul Tol's "muted" scheme (https://personal.sron.nl/~pault/, colour-blind safe,
distinct in greyscale by lightness less so: hence the dashes) for the nine pairings beside
secure-secure, which is black. Pairings with one secure partner are solid, cool colours;
pairings without a secure partner are warm and dashed, so the two groups stay apart
without colour.

Needs only the standard library: importing it costs nothing before matplotlib loads.
"""
import zlib

SECURE_SECURE = {"color": "#000000", "ls": "-", "lw": 2.6}

_DASHED = (0, (5, 1.5))
_DASH_DOT = (0, (6, 1.5, 1.5, 1.5))
_DOTTED = (0, (1.5, 1.2))

# name -> colour, line style, line width. Neighbours in the legend that share a hue family
# (rose / wine / purple) differ in dash.
STANDARD = {
    "secure-secure": SECURE_SECURE,
    "secure-anxious": {"color": "#332288", "ls": "-", "lw": 1.8},    # indigo
    "secure-avoidant": {"color": "#44AA99", "ls": "-", "lw": 1.8},   # teal
    "secure-fearful": {"color": "#88CCEE", "ls": "-", "lw": 1.8},    # cyan
    "anxious-anxious": {"color": "#CC6677", "ls": _DASHED, "lw": 1.6},      # rose
    "anxious-avoidant": {"color": "#882255", "ls": _DASH_DOT, "lw": 1.6},   # wine
    "anxious-fearful": {"color": "#AA4499", "ls": _DASHED, "lw": 1.6},      # purple
    "avoidant-avoidant": {"color": "#117733", "ls": _DASHED, "lw": 1.6},    # green
    "avoidant-fearful": {"color": "#999933", "ls": _DASH_DOT, "lw": 1.6},   # olive
    "fearful-fearful": {"color": "#C4A83A", "ls": _DOTTED, "lw": 2.0},      # sand, darkened
}

SWAPPED_DASH = (0, (9, 2.5))

# Names outside STANDARD, typically a standard style against a custom one
# (anxiety_sweep.ini's secure-probe, anxious-probe, ...): the colour follows partner a's
# style and the dash partner b's, so the pairings of one custom style against the four
# standard ones differ in colour. Tol's "bright" scheme, distinct from the muted one.
STYLE_COLOURS = {"secure": "#4477AA", "anxious": "#EE6677", "avoidant": "#228833",
                 "fearful": "#AA3377"}
STYLE_DASHES = {"secure": "-", "anxious": (0, (4, 1.5)), "avoidant": (0, (6, 1.5, 1.5, 1.5)),
                "fearful": (0, (1.5, 1.2))}
FALLBACK_COLOURS = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#777777"]
FALLBACK_DASHES = ["-", (0, (4, 1.5)), (0, (1.5, 1.2)), (0, (6, 1.5, 1.5, 1.5))]


def _crc(text):
    return zlib.crc32(text.encode("utf-8"))


def pairing_style(name):
    """{"color", "ls", "lw"} of the pairing called `name` (a new dict each call)."""
    if name in STANDARD:
        return dict(STANDARD[name])
    a, sep, b = name.partition("-")
    if sep and f"{b}-{a}" in STANDARD:
        # The same two styles with partner a and b swapped (workload_sweep.ini's
        # anxious-secure): the colour of the styles, a long dash for the other order.
        return dict(STANDARD[f"{b}-{a}"], ls=SWAPPED_DASH)
    if not sep:  # random, population: no styles to go by
        a = b = name
    colour = STYLE_COLOURS.get(a) or FALLBACK_COLOURS[_crc(a) % len(FALLBACK_COLOURS)]
    dash = STYLE_DASHES.get(b) or FALLBACK_DASHES[_crc(b) % len(FALLBACK_DASHES)]
    return {"color": colour, "ls": dash, "lw": 1.6}


# --- axis labels ---------------------------------------------------------------------

_PLURAL = {"day": "days", "week": "weeks", "year": "years", "tick": "ticks", "hour": "hours",
           "minute": "minutes", "second": "seconds", "s": "s", "d": "days"}


def unit_text(units):
    """A UDUNITS string as a reader writes it: "1" and "" -> "" (no unit), "week-1" ->
    "per week", "day" -> "days", "day-1 week-1"... -> "per day per week". Anything not of
    the form NAME or NAME-1 (or products of those) is returned as it is."""
    units = (units or "").strip()
    if units in ("", "1"):
        return ""
    numer, denom = [], []
    for part in units.split():
        if part.endswith("-1") and part[:-2].isalpha():
            denom.append(part[:-2])
        elif part.isalpha():
            numer.append(_PLURAL.get(part, part))
        else:
            return units
    text = " ".join(numer)
    text += "".join(f" per {d}" for d in denom)
    return text.strip()


def text_of(value):
    """An attribute value (bytes, numpy string or array of one) as str."""
    if isinstance(value, bytes):
        return value.decode()
    if hasattr(value, "ravel") and getattr(value, "size", 1) == 1 and getattr(value, "ndim", 0):
        return text_of(value.ravel()[0])
    return str(value)


def axis_label(attrs, fallback, strip=(": mean over the couples",)):
    """An axis label from a variable's attributes: its long_name (the raw variable name
    `fallback` when it has none) and, in parentheses, its unit as unit_text() writes it.
    `strip`: endings of a long_name that describe the file's layout rather than the
    quantity (the per-pairing means' "...: mean over the couples of the pairing")."""
    name = text_of(attrs.get("long_name", "")).strip()
    for s in strip:
        if s in name:
            name = name.split(s)[0].strip()
    unit = unit_text(text_of(attrs.get("units", "")))
    name = name or fallback
    return f"{name} ({unit})" if unit else name


def text_colour(colour):
    """`colour` (#RRGGBB) darkened until text in it reads on white: the pale pairing colours
    (cyan, sand) make good lines and boxes but illegible tick labels. Other colours
    (names, tuples) are returned unchanged."""
    if not (isinstance(colour, str) and colour.startswith("#") and len(colour) == 7):
        return colour
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    # WCAG relative luminance; 0.18 is about a 4.5:1 contrast against white.
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    if lum <= 0.18:
        return colour
    scale = (0.18 / lum) ** (1 / 2.2)
    return "#" + "".join(f"{round(255 * c * scale):02x}" for c in rgb)
