import sys, datetime, decimal
import pyarrow as pa, pyarrow.parquet as pq
t = pa.table({
    "i8": pa.array([1, -2, None], pa.int8()),
    "i16": pa.array([300, None, -300], pa.int16()),
    "i32": pa.array([70000, 0, None], pa.int32()),
    "i64": pa.array([2**40, None, -1], pa.int64()),
    "u8": pa.array([255, None, 0], pa.uint8()),
    "u16": pa.array([65535, 1, None], pa.uint16()),
    "u32": pa.array([4294967295, None, 2], pa.uint32()),
    "u64": pa.array([18446744073709551615, 5, None], pa.uint64()),
    "f32": pa.array([1.5, None, -0.25], pa.float32()),
    "f64": pa.array([0.1, 2.0, None], pa.float64()),
    "b": pa.array([True, False, None]),
    "s": pa.array(["a", "żółć ✓", None]),
    "bin": pa.array([b"\x00\x01", b"", None]),
    "d": pa.array([datetime.date(2024, 1, 31), datetime.date(1969, 12, 31), None]),
    "t": pa.array([datetime.time(13, 5, 7, 250000), None, datetime.time(0, 0)], pa.time64("us")),
    "ts": pa.array([1704103200123456, None, -1], pa.timestamp("us")),
    "tstz": pa.array([1704103200123, 0, None], pa.timestamp("ms", tz="Europe/Paris")),
    "dec": pa.array([decimal.Decimal("123.45"), decimal.Decimal("-0.01"), None], pa.decimal128(10, 2)),
    "l": pa.array([[1, 2], [], None], pa.list_(pa.int32())),
    "st": pa.array([{"x": 1, "y": "a"}, None, {"x": None, "y": "b"}], pa.struct([("x", pa.int64()), ("y", pa.string())])),
    "m": pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int64())),
    "n": pa.array([None, None, None], pa.null()),
})
pq.write_table(t, sys.argv[1], row_group_size=2)
