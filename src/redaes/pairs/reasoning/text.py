"""Sentences of a reasoning text, written the way a photographer explains a difference.

Three parts, each built from a structured fact, never from the op's name or strength:

1. the scene of the source (when detected): its intent ("a warm-toned scene"), its faces ("one
   face") and its dominant horizontal lines ("level horizontal lines", "horizontal lines tilted
   3.2 degrees": a horizon, a shelf or a table edge alike);
2. up to four measured changes, each with its numbers ("mean brightness falls from 46% to 31%;
   the whole frame reads darker");
3. the rule that set the verdict (the decisive claim: "The main loss is the extra grain.") and the
   conclusion with the recorded number.

Wording varies with the pair's seed (a :class:`random.Random` per pair), so two pairs of the same
op read differently, while a re-build writes the same text. The claim checker
(:mod:`redaes.pairs.reasoning.check`) parses these sentences back: every noun phrase keeps its
kind's keyword, numbers are always written "from X to Y", and each direction word belongs to
the claim's kind.
"""

from __future__ import annotations

import random

from redaes.pairs.reasoning.claims import Claim
from redaes.pairs.reasoning.observe import INTENT_MIN_STRENGTH, INTENT_PHRASES, KINDS, Observation

UP_VERBS = ("rises", "climbs", "goes up", "increases")
DOWN_VERBS = ("falls", "drops", "goes down", "decreases")

# kind -> (noun phrases, consequences when it rises, consequences when it falls)
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "brightness": (
        ("mean brightness", "the average brightness"),
        ("the whole frame reads brighter", "the picture looks lighter overall"),
        ("the whole frame reads darker", "the picture looks dimmer overall"),
    ),
    "whites": (
        ("the area of pure white", "the share of the frame that is pure white"),
        ("those highlights hold no texture at all", "more highlights turn featureless"),
        ("fewer highlights are featureless", "less of the highlight area is featureless white"),
    ),
    "blacks": (
        ("the area of pure black", "the share of the frame that is pure black"),
        ("the deepest shadows hold no texture", "more shadow areas turn to solid black"),
        ("fewer shadows are solid black", "less of the shadow area is solid black"),
    ),
    "contrast": (
        ("RMS contrast", "the tonal contrast (RMS)"),
        ("the image looks punchier", "tones separate strongly, a punchier look"),
        ("the image looks flatter", "tones run together, a flatter look"),
    ),
    "saturation": (
        ("colour saturation (mean Lab chroma)", "the saturation of the colours (mean chroma)"),
        ("colours look richer", "the palette turns more vivid"),
        ("colours look paler", "the palette turns more muted"),
    ),
    "warmth": (
        ("the warmth of the neutral tones (b*)", "the b* balance of the near-neutral greys"),
        ("whites and greys turn warmer", "the light looks yellower"),
        ("whites and greys turn cooler", "the light looks bluer"),
    ),
    "tint": (
        ("the tint of the neutral tones (a*)", "the a* balance of the near-neutral greys"),
        ("greys lean toward magenta", "a magenta tint creeps in"),
        ("greys lean toward green", "a green tint creeps in"),
    ),
    "noise": (
        ("the noise level in smooth areas (sigma)", "noise in the flat areas (sigma)"),
        ("the smooth areas look grainy", "the picture turns grainier"),
        ("smooth areas look cleaner", "flat areas turn cleaner"),
    ),
    "detail": (
        ("fine detail (Laplacian measure)", "the fine detail measure"),
        ("edges look crisper", "textures read sharper"),
        ("edges look softer", "textures turn blurrier"),
    ),
    "blocking": (
        ("8x8 blocking", "the 8x8 blocking measure"),
        ("block edges appear in smooth gradients", "compression blocks start to show"),
        ("block edges fade from the gradients", "fewer compression blocks show"),
    ),
    "squares": (
        ("the area of flat pixel squares", "the share of flat pixel squares"),
        ("fine structure turns into visible squares", "the picture looks pixelated"),
        ("fewer visible squares break up the structure", "the blocky squares recede"),
    ),
    "specks": (
        ("the share of isolated specks", "the share of isolated bright and dark specks"),
        ("salt-and-pepper dots show across the frame", "stray dots spot the picture"),
        ("fewer stray dots spot the picture", "the stray dots clear"),
    ),
    "patches": (
        ("the area of flat colour patches", "the share of flat colour patches"),
        ("blotches of solid colour interrupt the picture", "solid blotches of colour appear"),
        ("fewer solid blotches of colour remain", "the solid blotches of colour recede"),
    ),
    "purple": (
        ("the share of colour in purple-magenta hues", "purple-magenta colour"),
        ("hues drift toward unnatural purples", "hues turn unnaturally purple"),
        ("fewer unnatural purples remain", "hues move away from purple"),
    ),
    "vignette": (
        ("the corner fall-off", "how far the corners fall below the centre"),
        ("the corners look darker", "the edges of the frame look darker"),
        ("the corners look brighter", "the frame lights up toward the corners"),
    ),
    "haze": (
        ("the dark channel (a haze cue)", "the haze cue (dark channel)"),
        ("a milky veil lifts the blacks", "the scene looks hazier"),
        ("the veil thins", "the scene looks clearer"),
    ),
    "horizon": (
        ("the tilt of the main horizontal lines", "the tilt of the dominant horizontal lines"),
        ("the frame looks crooked", "the scene leans visibly"),
        ("the lines sit closer to level", "the frame reads straighter"),
    ),
}

# kind -> (rule noun phrase when it rose, when it fell)
RULE_NOUNS: dict[str, tuple[str, str]] = {
    "brightness": ("the brighter exposure", "the darker exposure"),
    "whites": ("the larger area of pure white", "the smaller area of pure white"),
    "blacks": ("the larger area of pure black", "the smaller area of pure black"),
    "contrast": ("the punchier contrast", "the flatter contrast"),
    "saturation": ("the richer saturation", "the paler saturation"),
    "warmth": ("the warmer white balance (b*)", "the cooler white balance (b*)"),
    "tint": ("the magenta tint", "the green tint"),
    "noise": ("the extra grain", "the cleaner flat areas"),
    "detail": ("the crisper detail", "the softer detail"),
    "blocking": ("the visible 8x8 blocking", "the fainter 8x8 blocking"),
    "squares": ("the flat pixel squares", "the fewer flat pixel squares"),
    "specks": ("the stray specks", "the fewer specks"),
    "patches": ("the flat colour patches", "the fewer flat colour patches"),
    "purple": ("the drift toward purple", "the move away from purple"),
    "vignette": ("the darker corners", "the brighter corners"),
    "haze": ("the haze veil", "the thinner veil"),
    "horizon": ("the tilted horizontal lines", "the straighter horizontal lines"),
    "subject_x": ("the new placement of the centre of visual interest",) * 2,
    "subject_y": ("the new placement of the centre of visual interest",) * 2,
    "frame": ("the new framing", "the tighter framing"),
}

# kind -> plain noun (with the kind's keyword) for changes too small to see on their own
SHORT: dict[str, str] = {
    "brightness": "brightness",
    "whites": "the pure white area",
    "blacks": "the pure black area",
    "contrast": "contrast",
    "saturation": "saturation",
    "warmth": "warmth (b*)",
    "tint": "tint (a*)",
    "noise": "noise",
    "detail": "fine detail",
    "blocking": "blocking",
    "squares": "pixel squares",
    "specks": "specks",
    "patches": "colour patches",
    "purple": "purple hues",
    "vignette": "corner fall-off",
    "haze": "haze",
    "horizon": "the tilt of the horizontal lines",
    "subject_x": "placement of the centre of visual interest",
    "subject_y": "placement of the centre of visual interest",
    "frame": "framing",
}
GRAIN_FRAMES = (
    "{Noun} {verb} from {a} to {b}, largely an effect of the speckle.",
    "{Noun} {verb} from {a} to {b}; that is mostly the speckle's doing.",
)
SMALL_FRAMES = (
    "{Noun} {verb} slightly, from {a} to {b}.",
    "A small change: {noun} {verb} from {a} to {b}.",
    "{Noun} {verb} from {a} to {b}, hardly visible by itself.",
)

COST_RULES = (
    "{NP} is what costs the picture most.",
    "What weighs most against it is {np}.",
    "The main loss is {np}.",
)
GAIN_RULES = (
    "{NP} is what helps the picture most.",
    "What counts most in its favour is {np}.",
    "The main gain is {np}.",
)
NEUTRAL_RULES = (
    "None of these changes moves the score much.",
    "Together these changes hardly move the score.",
)
NO_CHANGE = ("The two images measure almost the same.", "Nothing measured differs enough to see.")
BALANCE = {-1: "On balance the result looks weaker.", 1: "On balance the result looks stronger."}

FRAMES = (
    "{Noun} {verb} from {a} to {b}; {cons}.",
    "{Cons}: {noun} {verb} from {a} to {b}.",
    "{Noun} {verb} from {a} to {b}, so {cons}.",
    "In the edit, {noun} {verb} from {a} to {b} and {cons}.",
)
NUMBERS = ("one", "two", "three", "four", "five")


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def scene_sentence(src: Observation, rng: random.Random, lines: bool = False) -> str | None:
    """The source's detected content, or ``None`` when nothing is detected.

    Level lines are named only when ``lines`` (the pair changes the geometry); tilted ones always.
    """
    sc = src.scene
    parts: list[str] = []
    if sc.faces >= 1:
        n = NUMBERS[sc.faces - 1] if sc.faces <= len(NUMBERS) else str(sc.faces)
        parts.append(f"{n} face" + ("s" if sc.faces > 1 else ""))
    if sc.horizon_deg is not None and (lines or abs(sc.horizon_deg) >= 1.0):
        h = abs(sc.horizon_deg)
        parts.append(
            "level horizontal lines" if h < 1.0 else f"horizontal lines tilted {h:.1f} degrees"
        )
    intent = None
    if sc.intent in INTENT_PHRASES and sc.intent_strength >= INTENT_MIN_STRENGTH:
        intent = rng.choice(INTENT_PHRASES[sc.intent])
    if intent is None and not parts:
        return None
    if intent is None:
        return rng.choice(("The photo shows {x}.", "The photo has {x}.")).format(
            x=" and ".join(parts)
        )
    if not parts:
        return rng.choice(("This is {i}.", "The photo is {i}.")).format(i=intent)
    return rng.choice(("This is {i}, with {x}.", "The photo is {i} with {x}.")).format(
        i=intent, x=" and ".join(parts)
    )


def claim_sentence(c: Claim, rng: random.Random) -> str:
    """One measured change with its numbers."""
    if c.kind == "frame":
        assert c.dims is not None
        w0, h0, w1, h1 = c.dims
        cons = (
            rng.choice(("a tighter view", "less of the scene"))
            if c.after < 1
            else ("a different shape")
        )
        return f"The frame changes from {w0}x{h0} px to {w1}x{h1} px, {cons}."
    kind = KINDS[c.kind]
    a, b = kind.fmt(c.before), kind.fmt(c.after)
    if c.kind in ("subject_x", "subject_y"):
        where = "across the frame" if c.kind == "subject_x" else "from the top of the frame"
        return rng.choice(
            (
                "The centre of visual interest moves from {a} to {b} {w}.",
                "In the new frame the centre of visual interest shifts from {a} to {b} {w}.",
            )
        ).format(a=a, b=b, w=where)
    nouns, ups, downs = PHRASES[c.kind]
    noun = rng.choice(nouns)
    verb = rng.choice(UP_VERBS if c.up else DOWN_VERBS)
    if c.confounded:
        return rng.choice(GRAIN_FRAMES).format(Noun=_cap(noun), verb=verb, a=a, b=b)
    if not c.visible:
        return rng.choice(SMALL_FRAMES).format(Noun=_cap(noun), noun=noun, verb=verb, a=a, b=b)
    cons = rng.choice(ups if c.up else downs)
    frame = rng.choice(FRAMES)
    return frame.format(Noun=_cap(noun), noun=noun, verb=verb, a=a, b=b, cons=cons, Cons=_cap(cons))


def rule_sentence(
    found: list[Claim], main: Claim | None, delta_sign: int, rng: random.Random
) -> str:
    """The rule that set the verdict."""
    if not found:
        return rng.choice(NO_CHANGE)
    if delta_sign == 0:
        return rng.choice(NEUTRAL_RULES)
    if main is None:
        return BALANCE[delta_sign]
    np_ = RULE_NOUNS[main.kind][0 if main.up else 1]
    if main.confounded:
        np_ = f"the change in {SHORT[main.kind]}"
    elif not main.visible:
        np_ = f"the small change in {SHORT[main.kind]}"
    template = rng.choice(GAIN_RULES if delta_sign > 0 else COST_RULES)
    return template.format(NP=_cap(np_), np=np_)
