"""Write eval/train_forum_posts.jsonl: each training tip-of-the-tongue description (train_tip_of_tongue.tsv)
told inside one of four stories an asker tells about themselves, as a long forum post would be.

The stories are not those of the long-post evaluation variants (docs/search-quality.md); choices
about long posts (which sentences to drop, long_query_fusion) are made on this set.

  python eval/build_train_posts.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
STORIES = (
    ("Hello everyone. This has been bugging me for weeks now. My uncle had a huge shelf of paperbacks "
    "in his basement and I used to borrow one every weekend when we visited. I was maybe fourteen and "
    "reading everything I could get my hands on. He passed away last year and the books were all given "
    "away before I could ask. I finally have some time to read again since my job got less busy. I tried "
    "asking at my local bookstore but the clerk had no idea."),
    ("Ok so this is a long shot. I listened to this as an audiobook on a road trip with my dad when I was "
    "in high school. We drove across three states and it kept us awake through the whole night. My dad "
    "can't remember it either and he says it was my pick anyway. I think the narrator had a deep voice "
    "and there were lots of chapters. I've been trying to find it so I can listen again on my commute. "
    "My friends have suggested a bunch of titles but none of them are it."),
    ("Hi! I picked this up at an airport in Chicago during a really long delay. I read about half of it "
    "on the plane and then left it in the seat pocket like an idiot. That was probably eight or nine "
    "years ago now. I think it was a paperback with a dark cover and a quote on the front. I keep "
    "thinking about how it might end and it drives me crazy. My partner says I should just let it go "
    "but I really can't."),
    ("Hey folks, hoping someone here can help. We had to read this for an English class in college, or "
    "maybe it was a book club my mom dragged me to. I remember arguing about it over coffee with a "
    "friend for hours afterwards. I sold all my textbooks after graduation and regret it now. I've "
    "googled every combination of words I can think of. My sister thinks it was made into a movie but "
    "she is not sure."),
)


def main() -> None:
    lines = [
        line.split("\t")
        for line in (HERE / "train_tip_of_tongue.tsv").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    with (HERE / "train_forum_posts.jsonl").open("w") as out:
        for n, (book_id, text) in enumerate(lines):
            post = f"{STORIES[n % len(STORIES)]} Anyway, what I remember is this: {text}. Thank you in advance!"
            out.write(json.dumps({"query": post, "relevant": [book_id]}) + "\n")


if __name__ == "__main__":
    main()
