"""What counts as reading a data file and as writing an output, shared by the I/O rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from ._names import ImportMap, call_name, get_arg, last_component, method_name, string_value

# -- reads -----------------------------------------------------------------------------------------

_READ_FUNCTION = re.compile(r"^(pandas|polars|geopandas)\.read_\w+$")
_OPEN_FUNCTION = re.compile(r"^xarray\.open_\w+$")
_EAGER_EXCLUDED = re.compile(r"^pandas\.read_(sql\w*|clipboard|html|gbq)$")

#: Loaders that always read (when called, the data is read or the file opened).
LOADERS: frozenset[str] = frozenset(
    {
        "numpy.load",
        "numpy.loadtxt",
        "numpy.genfromtxt",
        "numpy.fromfile",
        "xarray.load_dataset",
        "xarray.load_dataarray",
        "geopandas.read_file",
        "pickle.load",
        "json.load",
        "joblib.load",
        "torch.load",
        "dill.load",
        "pyarrow.parquet.read_table",
        "pyarrow.parquet.read_pandas",
        "pyarrow.feather.read_table",
        "pyarrow.feather.read_feather",
        "pyarrow.csv.read_csv",
        "scipy.io.loadmat",
    }
)

#: Openers that read unless given a write mode.
_MODE_LOADERS = frozenset({"rasterio.open", "h5py.File", "netCDF4.Dataset", "zarr.open"})

#: Loaders that return a pickled object rather than a table or an array to subset.
_OBJECT_LOADERS = frozenset(
    {"pickle.load", "json.load", "joblib.load", "torch.load", "dill.load", "scipy.io.loadmat"}
)

#: Eager whole-file readers whose result lives in memory (xarray ``open_*`` is lazy).
_EAGER_READERS = LOADERS - _OBJECT_LOADERS


#: Keywords that make a read partial (columns, rows, a filter, lazy chunks, memory mapping).
SELECTION_KEYWORDS = frozenset(
    {
        "usecols",
        "columns",
        "filters",
        "filter",
        "nrows",
        "n_rows",
        "skiprows",
        "skip_rows",
        "skipfooter",
        "max_rows",
        "bbox",
        "mask",
        "where",
        "rows",
        "sql",
        "chunks",
        "chunksize",
        "iterator",
        "mmap_mode",
        "memory_map",
        "include_fields",
        "ignore_fields",
        "predicate",
    }
)

_MODE = re.compile(r"^[rwxabt+U]{1,4}$")


def literal_mode(node: cst.BaseExpression | None) -> str | None:
    """A file mode given as a string literal (``"wb"``), else None."""
    if node is None:
        return None
    value = string_value(node)
    if value is None or not _MODE.match(value) or not set(value) & set("rwxa"):
        return None
    return value


def _is_read_mode(mode: cst.BaseExpression | None) -> bool:
    if mode is None:
        return True
    value = literal_mode(mode)
    return value is not None and not set(value) & set("wxa")


def loader_name(call: cst.Call, imports: ImportMap, extra: frozenset[str]) -> str | None:
    """The dotted name of the data loader ``call`` calls, if it is one."""
    name = call_name(call, imports)
    if name is None:
        return None
    if name in LOADERS or name in extra:
        return name
    if _READ_FUNCTION.match(name) or _OPEN_FUNCTION.match(name):
        return name
    if name in _MODE_LOADERS and _is_read_mode(get_arg(call, 1, "mode")):
        return name
    return None


def eager_reader_name(call: cst.Call, imports: ImportMap) -> str | None:
    """The dotted name of an eager whole-file reader ``call`` calls, if it is one."""
    name = call_name(call, imports)
    if name is None:
        return None
    if name in _EAGER_READERS:
        return name
    if _READ_FUNCTION.match(name) and not _EAGER_EXCLUDED.match(name):
        return name
    return None


def is_builtin_open_read(call: cst.Call, imports: ImportMap) -> bool:
    """Whether ``call`` is the builtin ``open(...)`` in a read mode."""
    return call_name(call, imports) == "open" and _is_read_mode(get_arg(call, 1, "mode"))


# -- writes ----------------------------------------------------------------------------------------

#: Methods that write their receiver to the path given as first argument.
_TO_METHODS = frozenset(
    {
        "to_csv",
        "to_parquet",
        "to_json",
        "to_excel",
        "to_netcdf",
        "to_feather",
        "to_pickle",
        "to_hdf",
        "to_zarr",
        "to_file",
        "to_stata",
        "to_orc",
        "to_xml",
        "to_raster",
        "write_csv",
        "write_parquet",
        "write_json",
        "write_ndjson",
        "write_ipc",
        "write_excel",
        "write_avro",
        "write_delta",
        "savefig",
        "tofile",
    }
)
_PATH_KEYWORDS = (
    "path",
    "path_or_buf",
    "path_or_buffer",
    "fname",
    "filename",
    "file",
    "excel_writer",
    "store",
    "dest",
    "where",
    "target",
    "uri",
    "file_path",
    "f",
    "output_file",
)
#: Functions that write every argument but the path: ``np.savez(path, a, stats=b)``.
_WRITES_EVERY_ARGUMENT = frozenset({"numpy.savez", "numpy.savez_compressed"})
#: Functions that write, with the position of their path argument (None: a file object).
_WRITE_FUNCTIONS: dict[str, int | None] = {
    "numpy.save": 0,
    "numpy.savez": 0,
    "numpy.savez_compressed": 0,
    "numpy.savetxt": 0,
    "joblib.dump": 1,
    "torch.save": 1,
    "json.dump": None,
    "pickle.dump": None,
    "dill.dump": None,
    "pyarrow.parquet.write_table": 1,
    "pyarrow.feather.write_feather": 1,
    "pyarrow.csv.write_csv": 1,
    "cv2.imwrite": 0,
    "imageio.imwrite": 0,
    "imageio.v2.imwrite": 0,
    "imageio.v3.imwrite": 0,
    "tifffile.imwrite": 0,
    "tifffile.imsave": 0,
    "skimage.io.imsave": 0,
    "matplotlib.pyplot.savefig": 0,
}
#: Openers taking ``(path, mode)``; a method ``x.open(...)`` is handled separately.
_OPENERS = frozenset(
    {
        "open",
        "io.open",
        "gzip.open",
        "bz2.open",
        "lzma.open",
        "codecs.open",
        "fsspec.open",
        "h5py.File",
        "netCDF4.Dataset",
        "zarr.open",
        "rasterio.open",
        "zipfile.ZipFile",
        "tarfile.open",
    }
)
_PATHY_NAME = re.compile(r"path|file|fname|dest|out|dir|target", re.IGNORECASE)


@dataclass(frozen=True)
class Write:
    """A call that writes an output."""

    call: cst.Call
    #: Where it writes (None when it writes to a file object opened elsewhere).
    path: cst.BaseExpression | None
    #: What it writes (the receiver of ``df.to_csv``, the array of ``np.save``...).
    data: tuple[cst.BaseExpression, ...]
    #: Whether it appends (mode ``"a"``) rather than creating or replacing the output.
    append: bool


def _path_like(node: cst.BaseExpression) -> bool:
    """Whether ``node`` looks like a path: a string, ``a / b``, ``os.path.join``, ``out_path``."""
    if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
        return True
    if isinstance(node, cst.BinaryOperation):
        return isinstance(node.operator, (cst.Divide, cst.Add))
    if isinstance(node, cst.Call):
        name = last_component(node.func)
        return name in {"join", "Path", "joinpath", "with_suffix", "with_name", "format", "str"}
    name = last_component(node)
    return name is not None and bool(_PATHY_NAME.search(name))


def _others(call: cst.Call, path: cst.BaseExpression | None) -> tuple[cst.BaseExpression, ...]:
    return tuple(arg.value for arg in call.args if arg.value is not path)


def _open_write(call: cst.Call, path_index: int) -> Write | None:
    path = get_arg(call, path_index, "file", "filename", "name", "path", "urlpath")
    mode = literal_mode(get_arg(call, path_index + 1, "mode"))
    if mode is None or not set(mode) & set("wxa"):
        return None
    return Write(call, path, (), append="a" in mode)


def classify_write(call: cst.Call, imports: ImportMap) -> Write | None:
    """The write ``call`` performs, if it writes an output file."""
    name = call_name(call, imports)
    if name in _OPENERS:
        return _open_write(call, 0)
    if name in _WRITE_FUNCTIONS:
        index = _WRITE_FUNCTIONS[name]
        if index is None:
            stream = get_arg(call, 1, "fp", "file")
            if stream is not None and imports.resolve(stream) in {"sys.stdout", "sys.stderr"}:
                return None  # json.dump(x, sys.stdout): output, not a file
        path = None if index is None else get_arg(call, index, *_PATH_KEYWORDS)
        if name in _WRITES_EVERY_ARGUMENT:
            return Write(call, path, _others(call, path), append=False)
        data = get_arg(
            call,
            0 if index != 0 else 1,
            "arr",
            "obj",
            "value",
            "X",
            "table",
            "df",
            "img",
            "im",
            "data",
        )
        return Write(call, path, () if data is None else (data,), append=False)
    method = method_name(call)
    if method is None:
        return None
    assert isinstance(call.func, cst.Attribute)
    receiver = call.func.value
    if method == "open":
        first = get_arg(call, 0, "mode")
        if literal_mode(first) is not None and get_arg(call, 1) is None:
            mode = literal_mode(first)  # pathlib style: path.open("w")
            if mode is None or not set(mode) & set("wxa"):
                return None
            return Write(call, receiver, (), append="a" in mode)
        return _open_write(call, 0)  # filesystem style: fs.open(path, "w")
    if method in {"write_text", "write_bytes"} and call.args:
        return Write(call, receiver, _others(call, None), append=False)
    if method in _TO_METHODS or method == "save":
        path = get_arg(call, 0, *_PATH_KEYWORDS)
        if path is None or (method == "save" and not _path_like(path)):
            return None
        mode = literal_mode(get_arg(call, None, "mode"))
        append = mode is not None and "a" in mode
        return Write(call, path, (receiver, *_others(call, path)), append=append)
    return None
