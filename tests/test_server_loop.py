"""The whole course loop over HTTP on loopback, as its people run it: the instructor makes a course
(public tests run on submit), imports the roster, issues tokens and starts `dlgrade serve` (a
subprocess); learners log in and submit with the CLI from their own folders (`--wait`: the public
tests' results); the instructor runs `dlgrade autograde` on the server's course; the learners see
no score yet; the instructor releases the
feedback on the staff page in Chromium; the learners read it with `dlgrade feedback` and on their
page in Chromium. Nothing the pages load comes from off the server, no console error, and no
token reaches the server's log."""

from __future__ import annotations

import json
import re
import time

from grader.exercise.cohort import submission_source
from grader.exercise.spec import find_exercise
from server_course import Server, dlgrade, make_course
from server_web import Web


def _learner(root, who: str, url: str, token: str, kind: str) -> dict:
    """A learner's own folder and config folder; logs in and writes their perceptron.py."""
    home = root / "home" / who
    (home / "config").mkdir(parents=True)
    env = {"XDG_CONFIG_HOME": str(home / "config")}
    dlgrade("login", url, "--token", token, cwd=home, env=env)
    ex = find_exercise("perceptron")
    (home / "perceptron").mkdir()
    (home / "perceptron" / ex.entry).write_text(submission_source(ex, kind, who), encoding="utf-8")
    return {"id": who, "home": home, "env": env, "token": token}


def _status(person) -> list[dict]:
    proc = dlgrade("status", "--json", cwd=person["home"], env=person["env"])
    return json.loads(proc.stdout)


def test_roster_tokens_login_submit_autograde_release_feedback_pages(tmp_path):
    t0 = time.monotonic()
    course, tokens = make_course(tmp_path, ["ali", "sara"], staff=(("prof", "instructor"),),
                                 server={"grade_on_submit": "public"})
    log = tmp_path / "serve.log"
    with Server(course, log) as server, Web() as web:
        people = {"ali": _learner(tmp_path, "ali", server.url, tokens["ali"], "partial"),
                  "sara": _learner(tmp_path, "sara", server.url, tokens["sara"], "correct")}
        receipts = {}
        for who, person in people.items():
            proc = dlgrade("submit", "perceptron", "--wait", cwd=person["home"], env=person["env"])
            assert "Public tests" in proc.stdout and ("FAIL" in proc.stdout) == (who == "ali"), proc.stdout
            found = re.search(r"submission (\d+), received (\S+) \(server time, on time\); sha256 ([0-9a-f]{64})",
                              proc.stdout)
            assert found, proc.stdout
            receipts[who] = {"id": int(found.group(1)), "sha256": found.group(3)}
            again = dlgrade("submit", "perceptron", cwd=person["home"], env=person["env"])
            assert f"submission {found.group(1)}," in again.stdout and "already had this exact content" in again.stdout
        for who, person in people.items():
            rows = _status(person)
            assert [r["submission_id"] for r in rows] == [receipts[who]["id"]]
            assert rows[0]["student"] == who and rows[0]["grading"]["state"] == "graded"
            assert rows[0]["grading"]["public"]["tests"] and "score" not in rows[0]["grading"]

        # the instructor grades the server's course as any other (the server keeps serving)
        proc = dlgrade("autograde", "--workers", "1", cwd=course, timeout=300)
        assert "graded 2, failed 0" in proc.stdout, proc.stdout
        for who, person in people.items():
            grading = _status(person)[0]["grading"]
            assert grading["state"] == "graded" and "score" not in grading  # held until released
            early = dlgrade("feedback", "perceptron", cwd=person["home"], env=person["env"], check=False)
            assert early.returncode != 0 and "no feedback released for perceptron" in early.stderr

        # the instructor releases the feedback on the staff page
        prof = web.visitor(server.url)
        assert prof.sign_in(tokens["prof"]) == "/staff"
        matrix = prof.text("#submitted")
        assert "ali" in matrix and "sara" in matrix
        with prof.page.expect_navigation(wait_until="load"):
            prof.page.click("tr.exercise[data-exercise='perceptron'] form.release button")
        assert "was released" in prof.text()
        prof.open("/staff/dashboard")
        assert "perceptron" in prof.text() and prof.page.locator("svg").count() >= 1
        assert prof.problems() == []

        # the learners read it: in the terminal (the HTML saved beside) and on their page
        scores = {}
        for who, person in people.items():
            proc = dlgrade("feedback", "perceptron", "--raw", "--lang", "en", cwd=person["home"], env=person["env"])
            assert f"Feedback for {who}" in proc.stdout
            saved = person["home"] / "feedback" / "perceptron.html"
            assert f"Feedback for {who}" in saved.read_text(encoding="utf-8")
            grading = _status(person)[0]["grading"]
            scores[who] = (grading["score"], grading["max_score"])
            page = web.visitor(server.url)
            assert page.sign_in(tokens[who]) == "/me"
            row = page.page.locator(f"tr.receipt[data-submission='{receipts[who]['id']}']")
            assert row.count() == 1 and receipts[who]["sha256"][:16] in row.inner_text()
            assert re.search(r"public tests: \d+ of \d+ passed", row.inner_text())
            row.locator("details.public summary").click()
            failing = row.locator("ul.tests li .badge.bad").count()
            assert (failing > 0) == (who == "ali") and row.locator("ul.tests li").count() > failing
            assert page.page.locator("tr.receipt").count() == 1
            with page.page.expect_navigation(wait_until="load"):
                page.page.click("tr.exercise[data-exercise='perceptron'] a.feedback")
            assert f"Feedback for {who}" in page.text()
            page.open("/me?lang=fa")
            assert page.page.evaluate("document.documentElement.dir") == "rtl"
            assert page.problems() == []
        assert scores["sara"][0] == scores["sara"][1] and scores["ali"][0] < scores["ali"][1]
    text = log.read_text(encoding="utf-8", errors="replace")
    assert all(token not in text for token in tokens.values()), "a token reached the server's log"
    assert time.monotonic() - t0 < 120, f"the loop took {time.monotonic() - t0:.0f} s"
