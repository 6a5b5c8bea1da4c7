"""nbgrader configuration: assignment sources in solutions/, the generated release in exercises/.

Release an assignment (regenerates exercises/NN_topic/ from solutions/NN_topic/):

    nbgrader generate_assignment 04_lora --force

Cohort grading runs in temporary course folders (see `ftcourse grade`), so this gradebook only records
releases.
"""
from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader)
root = Path(__file__).resolve().parent
c.CourseDirectory.root = str(root)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
(root / ".nbgrader").mkdir(exist_ok=True)   # git-ignored; sqlite does not create the folder
c.CourseDirectory.db_url = f"sqlite:///{root / '.nbgrader' / 'gradebook.db'}"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ExecutePreprocessor.timeout = 60
