"""The run's Optuna study: its storage (a journal file in the run folder, or a database), created or reopened with
damage repaired or refused in one line.

A database is given as an SQLAlchemy URL. `postgresql://` URLs are opened with psycopg (3), the driver of the
`nasbench[postgres]` extra, unless psycopg2 is installed (SQLAlchemy's default for that scheme); `postgres://` is
read as `postgresql://`, and `postgresql+psycopg://` or `postgresql+psycopg2://` name the driver explicitly. A
missing driver, a server that cannot be reached or refuses the login are `SettingError`s on `optuna_storage`: one
line, the URL's password masked."""
from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import optuna
import sqlalchemy.exc
from sqlalchemy.engine import URL, make_url

from nasbench.errors import SettingError, error_chain
from nasbench.search.journal import repair_journal
from nasbench.search.journal_file import BatchedJournalStorage
from nasbench.search.settings import SearchSettings

JOURNAL = "optuna.journal"
JOURNAL_URL = f"journal:{JOURNAL}"  # config.json's optuna_storage for a journal in the run folder
SETTING = "optuna_storage"
POSTGRES_INSTALL = "pip install 'nasbench[postgres]'"
CONNECT_TIMEOUT_S = 10  # a server that does not answer fails the start instead of hanging it
CREATE_ATTEMPTS = 4  # searches starting together on an empty database race to create Optuna's tables
CREATE_RETRY_S = 0.5
# psycopg's lead-in to the reason, which the message already says: 'connection failed: connection to server at
# "127.0.0.1", port 5432 failed: FATAL:  password authentication failed ...'
DRIVER_PREAMBLE = re.compile(r'^(connection failed: )?(connection to server at "[^"]*"( \([^)]*\))?, port \d+ '
                             r'failed: )?(FATAL: +)?')


def open_study(run_dir: Path, config: dict, settings: SearchSettings, create: bool,
               log=print) -> tuple[optuna.Study, optuna.storages.BaseStorage]:
    """The run's study and its storage; an existing journal is repaired first (torn or repeated tail, see
    `nasbench.search.journal`), saying what was done through `log`."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = config["optuna_storage"]
    storage = _journal_storage(run_dir / url.split(":", 1)[1], create, log) if is_journal(url) \
        else database_storage(url)
    name = config["study_name"]
    if create:
        directions = ["maximize" if d == "max" else "minimize" for d in settings.directions.values()]
        optuna.create_study(storage=storage, study_name=name, directions=directions)
    try:
        return optuna.load_study(study_name=name, storage=storage), storage
    except KeyError:
        where = f"{url.split(':', 1)[1]} in {run_dir}" if is_journal(url) else f"the database {masked(url)}"
        raise ValueError(f"{where} holds no study named {name!r} (config.json's study_name); the run's study is "
                         "missing") from None


def is_journal(url: str) -> bool:
    """Whether config.json's `optuna_storage` names a journal file in the run folder (else a database URL)."""
    return url.startswith("journal:")


def check_storage(url: str | None) -> None:
    """Refuse in one line (SettingError on optuna_storage), before a run starts, a database storage whose driver is
    missing or whose server cannot be reached or refuses the login (Optuna's tables are created where missing);
    None (a journal in the run folder) passes."""
    if url is not None and not is_journal(url):
        database_storage(url).engine.dispose()


def database_storage(url: str) -> optuna.storages.RDBStorage:
    """Optuna's storage in the database at `url`, its tables created if missing. Each pooled connection is checked
    before use, so one the server dropped (a restart, an idle timeout, a terminated backend) is replaced."""
    resolved = driver_url(url)
    lost_race: Exception | None = None
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return optuna.storages.RDBStorage(resolved.render_as_string(hide_password=False),
                                              engine_kwargs=_engine_kwargs(resolved))
        except ImportError as exc:
            raise SettingError(missing_driver_message(url, exc), SETTING) from None
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as exc:
            lost_race = exc  # most likely another search creating the tables at the same moment: try again
            time.sleep(CREATE_RETRY_S if attempt < CREATE_ATTEMPTS else 0)
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError, RuntimeError) as exc:
            # RuntimeError: tables of an Optuna version this one cannot read (`optuna storage upgrade`)
            raise SettingError(database_error_message(url, exc), SETTING) from None
    raise SettingError(database_error_message(url, lost_race), SETTING)


def driver_url(url: str) -> URL:
    """`url` parsed, with the PostgreSQL driver chosen: psycopg (3) for `postgresql://` unless psycopg2 is
    installed; SettingError when it is no database URL."""
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise SettingError(f"{url!r} is not a database URL (e.g. postgresql://user:password@host:5432/db or "
                           "sqlite:///studies.db)", SETTING) from None
    if parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql")
    if parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _engine_kwargs(url: URL) -> dict:
    """Pessimistic pooling (a dropped connection is replaced at checkout), and a connect timeout on PostgreSQL."""
    kwargs: dict = {"pool_pre_ping": True}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    return kwargs


def masked(url: str) -> str:
    """`url` fit to print: its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return "the given URL"


def server_address(url: str) -> str:
    """Where a database URL points, for a message: host:port/database, or the masked URL of a file database."""
    parsed = make_url(url)
    if not parsed.host:
        return masked(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host}{port}/{parsed.database or ''}"


def missing_driver_message(url: str, error: ImportError) -> str:
    """What to install for a database URL whose driver module is missing."""
    parsed = driver_url(url)
    module = _missing_module(error)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg2":
        return (f"the Optuna storage {masked(url)} needs the psycopg2 driver: pip install psycopg2-binary, or write "
                f"postgresql:// and {POSTGRES_INSTALL}")
    if parsed.get_backend_name() == "postgresql" and module in ("psycopg", None):
        return f"the Optuna storage {masked(url)} needs the psycopg driver: {POSTGRES_INSTALL}"
    return f"the Optuna storage {masked(url)} needs the Python module {module or 'of its driver'}, which is missing"


def _missing_module(error: BaseException) -> str | None:
    """The top-level name of the module whose import failed under `error` (Optuna rewraps SQLAlchemy's)."""
    names = (e.name.split(".")[0] for e in error_chain(error) if isinstance(e, ImportError) and e.name)
    return next(names, None)


def database_error_message(url: str, error: BaseException) -> str:
    """One line for a database that cannot hold the study: unreachable or refusing the login ("cannot connect"),
    or refusing the tables or queries ("cannot use"); the driver's first line, the URL's password masked."""
    cause = _dbapi_error(error)
    reason = DRIVER_PREAMBLE.sub("", _first_line(cause.orig if cause is not None and cause.orig is not None
                                                 else error))
    if password := make_url(url).password:
        reason = reason.replace(str(password), "***")
    verb = "connect to" if isinstance(cause, sqlalchemy.exc.OperationalError) else "use"
    return f"cannot {verb} the Optuna storage at {server_address(url)}: {reason}"


def _dbapi_error(error: BaseException) -> sqlalchemy.exc.DBAPIError | None:
    """SQLAlchemy's wrapping of the driver's error, under Optuna's wrapping (StorageInternalError)."""
    return next((e for e in error_chain(error) if isinstance(e, sqlalchemy.exc.DBAPIError)), None)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _journal_storage(path: Path, create: bool, log) -> BatchedJournalStorage:
    """The run folder's journal, repaired first when reopened; records are written in batches, one per durable
    step (`nasbench.search.journal_file` says what a crash can and cannot lose)."""
    if not create:
        if not path.is_file():
            raise ValueError(f"{path} is missing: the run's study is gone, so it cannot be resumed")
        if message := repair_journal(path):
            log(message)
        # this process holds the run folder's lock, so a journal lock file left here is a dead writer's
        Path(f"{path}.lock").unlink(missing_ok=True)
    return BatchedJournalStorage(path.resolve())
