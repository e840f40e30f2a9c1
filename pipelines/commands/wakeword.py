"""`vistavox wakeword train "Hey Vistavox"`, `vistavox wakeword list` and `vistavox
wakeword remove NAME`: wake words of the user's own."""

from __future__ import annotations

import argparse
import sys


def cmd_train(args: argparse.Namespace) -> int:
    from ..speech.wakeword_training import SMALL, STANDARD, describe, train_wake_word

    last = [-1]

    def progress(fraction: float, what: str) -> None:
        percent = int(fraction * 100)
        if percent // 5 != last[0] // 5:  # every 5 %
            last[0] = percent
            print(f"{percent:3d} %  {what}", file=sys.stderr, flush=True)

    word = train_wake_word(args.phrase, size=SMALL if args.quick else STANDARD, progress=progress)
    path = word.save()
    print(describe(word))
    print(f"Saved as {path}")
    print(f"Use it with: vistavox converse --wake-word {word.name}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ..speech.trained_wakeword import TrainedWord, trained_words
    from ..speech.wakeword import BUILT_IN
    from ..speech.wakeword_training import describe

    for name, word in BUILT_IN.items():
        print(f"{name}: “{word.phrase}” (built in)")
    for name, path in trained_words().items():
        try:
            print(f"{name}: {describe(TrainedWord.load(path))}")
        except (OSError, ValueError, KeyError) as exc:
            print(f"{name}: cannot be read ({exc})")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from ..speech.trained_wakeword import slug, trained_words
    from ..speech.wakeword import UnknownWakeWord

    path = trained_words().get(slug(args.name))
    if path is None:
        raise UnknownWakeWord(f"no trained wake word {args.name!r}")
    path.unlink()
    print(f"Removed {path}")
    return 0


def add_commands(sub) -> None:
    wakeword = sub.add_parser("wakeword", help="train a wake word of your own, list or remove one")
    actions = wakeword.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = actions.add_parser(
        "train",
        help="train a phrase as a wake word from synthetic voices (a few minutes, offline)",
    )
    train.add_argument("phrase", help='the phrase, e.g. "Hey Vistavox"')
    train.add_argument(
        "--quick", action="store_true", help="fewer voices: faster, and less reliable"
    )
    train.set_defaults(run=cmd_train)
    listing = actions.add_parser("list", help="the wake words there are, with measured figures")
    listing.set_defaults(run=cmd_list)
    remove = actions.add_parser("remove", help="delete a trained wake word")
    remove.add_argument("name", help="its name or phrase")
    remove.set_defaults(run=cmd_remove)
