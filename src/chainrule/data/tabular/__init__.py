"""Tables to network inputs and back: the preprocessing a saved command-line model carries.

A network needs a matrix of numbers on a unit scale; a CSV file has named columns of numbers,
words and gaps. `TabularPreprocessor` learns, from the training table,

- for each numeric column its mean μ and standard deviation s, and maps x to (x − μ) / s
  (a missing value becomes μ, that is 0 after scaling);
- for each categorical column (text, booleans, or a column named in ``categorical``) its
  categories, and maps a value to a one-hot block: 1 in the category's position, 0 elsewhere
  (a missing value is all zeros).

`TabularModel` is that preprocessing, an `MLPClassifier` / `MLPRegressor`, and the target's
own mapping (class labels, or the regression target's μ and s), so that it takes raw rows and
answers in the original label values. Everything here is JSON (`to_json` / `from_json`):
`cr.save` stores it without pickle (`chainrule.saving.tabular`; this package knows nothing of
files, and takes the estimator duck-typed). pandas is needed to fit and transform.
"""

from chainrule.data.tabular.columns import first_row
from chainrule.data.tabular.model import TabularModel
from chainrule.data.tabular.preprocessor import TabularPreprocessor
from chainrule.data.tabular.target import TASKS, encode_target, infer_task

__all__ = [
    "TASKS",
    "TabularModel",
    "TabularPreprocessor",
    "encode_target",
    "first_row",
    "infer_task",
]
