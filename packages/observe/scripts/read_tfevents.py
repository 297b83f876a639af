#!/usr/bin/env python3
"""An independent reader of TensorBoard event files, for rankwise's tests.

Reads TFRecord framing (uint64 length, masked CRC-32C of the length, data, masked CRC-32C of the data), checks both
CRCs with its own CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and decodes each record as a
tensorflow.Event with Google's protobuf runtime (Debian: python3-protobuf). The message types are declared here from
tensorflow/core/util/event.proto and framework/{summary,tensor,tensor_shape}.proto (the fields rankwise writes plus
their neighbours), so no TensorFlow is needed.

usage: read_tfevents.py <events file>   prints the decoded events as JSON (one object per event) on stdout
"""
import json
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool
try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # protobuf < 4.22 (Debian 12 ships 3.21)
    from google.protobuf import message_factory
    GetMessageClass = lambda d: message_factory.MessageFactory().GetPrototype(d)  # noqa: E731

F = descriptor_pb2.FieldDescriptorProto


def _message(file, name, fields):
    m = file.message_type.add(name=name)
    for number, fname, ftype, label, type_name in fields:
        f = m.field.add(name=fname, number=number, type=ftype, label=label)
        if type_name:
            f.type_name = type_name
    return m


def _classes():
    fd = descriptor_pb2.FileDescriptorProto(name='rankwise_tfevents.proto', package='tensorflow', syntax='proto2')
    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    _message(fd, 'TensorShapeProto', [])
    dim = fd.message_type[0].nested_type.add(name='Dim')
    dim.field.add(name='size', number=1, type=F.TYPE_INT64, label=opt)
    dim.field.add(name='name', number=2, type=F.TYPE_STRING, label=opt)
    fd.message_type[0].field.add(name='dim', number=2, type=F.TYPE_MESSAGE, label=rep, type_name='.tensorflow.TensorShapeProto.Dim')
    fd.message_type[0].field.add(name='unknown_rank', number=3, type=F.TYPE_BOOL, label=opt)
    _message(fd, 'TensorProto', [
        (1, 'dtype', F.TYPE_INT32, opt, None),
        (2, 'tensor_shape', F.TYPE_MESSAGE, opt, '.tensorflow.TensorShapeProto'),
        (3, 'version_number', F.TYPE_INT32, opt, None),
        (4, 'tensor_content', F.TYPE_BYTES, opt, None),
        (5, 'float_val', F.TYPE_FLOAT, rep, None),
        (8, 'string_val', F.TYPE_BYTES, rep, None),
    ])
    _message(fd, 'SummaryMetadata', [
        (1, 'plugin_data', F.TYPE_MESSAGE, opt, '.tensorflow.SummaryMetadata.PluginData'),
        (2, 'display_name', F.TYPE_STRING, opt, None),
        (3, 'summary_description', F.TYPE_STRING, opt, None),
        (4, 'data_class', F.TYPE_INT32, opt, None),
    ])
    pd = fd.message_type[2].nested_type.add(name='PluginData')
    pd.field.add(name='plugin_name', number=1, type=F.TYPE_STRING, label=opt)
    pd.field.add(name='content', number=2, type=F.TYPE_BYTES, label=opt)
    _message(fd, 'Summary', [(1, 'value', F.TYPE_MESSAGE, rep, '.tensorflow.Summary.Value')])
    val = fd.message_type[3].nested_type.add(name='Value')
    for number, fname, ftype, type_name in [
        (7, 'node_name', F.TYPE_STRING, None),
        (1, 'tag', F.TYPE_STRING, None),
        (9, 'metadata', F.TYPE_MESSAGE, '.tensorflow.SummaryMetadata'),
        (2, 'simple_value', F.TYPE_FLOAT, None),
        (8, 'tensor', F.TYPE_MESSAGE, '.tensorflow.TensorProto'),
    ]:
        f = val.field.add(name=fname, number=number, type=ftype, label=opt)
        if type_name:
            f.type_name = type_name
    _message(fd, 'Event', [
        (1, 'wall_time', F.TYPE_DOUBLE, opt, None),
        (2, 'step', F.TYPE_INT64, opt, None),
        (3, 'file_version', F.TYPE_STRING, opt, None),
        (4, 'graph_def', F.TYPE_BYTES, opt, None),
        (5, 'summary', F.TYPE_MESSAGE, opt, '.tensorflow.Summary'),
    ])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return GetMessageClass(pool.FindMessageTypeByName('tensorflow.Event'))


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(blob):
    pos = 0
    while pos < len(blob):
        header = blob[pos:pos + 8]
        (length,) = struct.unpack('<Q', header)
        (length_crc,) = struct.unpack('<I', blob[pos + 8:pos + 12])
        if masked(crc32c(header)) != length_crc:
            raise ValueError(f'record at byte {pos}: length CRC mismatch')
        data = blob[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack('<I', blob[pos + 12 + length:pos + 16 + length])
        if len(data) != length or masked(crc32c(data)) != data_crc:
            raise ValueError(f'record at byte {pos}: data CRC mismatch or truncated')
        yield data
        pos += 16 + length


def decode(path):
    Event = _classes()
    out = []
    with open(path, 'rb') as f:
        blob = f.read()
    for data in records(blob):
        e = Event()
        e.ParseFromString(data)
        item = {'wall_time': e.wall_time, 'step': e.step}
        if e.HasField('file_version'):
            item['file_version'] = e.file_version
        if e.HasField('summary'):
            values = []
            for v in e.summary.value:
                value = {'tag': v.tag}
                if v.HasField('simple_value'):
                    value['simple_value'] = v.simple_value
                if v.HasField('tensor'):
                    value['dtype'] = v.tensor.dtype
                    value['shape'] = [d.size for d in v.tensor.tensor_shape.dim]
                    value['text'] = [s.decode('utf-8') for s in v.tensor.string_val]
                if v.HasField('metadata'):
                    value['plugin'] = v.metadata.plugin_data.plugin_name
                    value['data_class'] = v.metadata.data_class
                values.append(value)
            item['values'] = values
        out.append(item)
    return out


if __name__ == '__main__':
    for event in decode(sys.argv[1]):
        print(json.dumps(event, ensure_ascii=False))
