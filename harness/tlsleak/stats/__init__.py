"""The statistics: does a memory signal grow linearly with the number of threads created?

`trend` fits a series (Theil-Sen, with its confidence interval), `series` judges one series
against a floor, `cell` decides a cell from its signals, `sequential` decides while the
checkpoints arrive. The rules are written in each module's docstring; the tunables are rows
of defaults.PARAMS."""
from tlsleak.stats.cell import (DECIDING, EXTERNAL, CellJudgement, attribution, beyond_rss,
                                beyond_rss_between, decide, judge_external, judge_signals, samples_to_series)
from tlsleak.stats.sequential import (LEAK_HORIZON, Sequential, look_confidence, tail_agrees)
from tlsleak.stats.series import Judgement, judge_series, newest_rise
from tlsleak.stats.trend import Rate, rate_to_dict, theil_sen, warm

__all__ = ["DECIDING", "EXTERNAL", "LEAK_HORIZON", "CellJudgement", "Judgement", "Rate",
           "Sequential", "attribution", "beyond_rss", "beyond_rss_between", "decide", "judge_external", "judge_series",
           "judge_signals", "look_confidence", "newest_rise", "rate_to_dict", "samples_to_series",
           "tail_agrees", "theil_sen", "warm"]
