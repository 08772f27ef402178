"""The shared types of ClauseWatch: every other package imports this one; it imports none of them.

Evidence records and their kinds, the contract and its commitments, per-subject results and
per-commitment verdicts, the evaluation of a run, run facts and the exit-code policy, input
problems, the redactor, and the run clock.
"""
