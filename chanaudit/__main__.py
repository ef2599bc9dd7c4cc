from chanaudit.cli import app

app()
