#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/*): a real
vhost-user handshake with requests, valid rings holding every request type,
and config files. Run it again after changing a format."""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

GET_FEATURES, SET_FEATURES, SET_OWNER = 1, 2, 3
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL = 12, 13
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
GET_CONFIG, RESET_DEVICE, GET_MAX_MEM_SLOTS, ADD_MEM_REG, SET_STATUS = 24, 34, 36, 37, 39
SET_MEM_TABLE = 5


def msg(request, payload=b"", need_reply=True):
    flags = 0x1 | (0x8 if need_reply else 0)
    return struct.pack("<III", request, flags, len(payload)) + payload


def record(data, fds=0, memfd=False):
    return struct.pack("<BH", fds | (4 if memfd else 0), len(data)) + data


def gpio_request(t, gpio, value):
    return struct.pack("<HHI", t, gpio, value)


def ring_image(requests, qsize=16, indirect=False):
    """Guest memory: requestq desc table at 0, avail at 0x1000, used at 0x2000;
    request buffers from 0x3000; eventq rings at +0x4000, with one buffer."""
    mem = bytearray(0x8000)
    data = 0x3000
    for i, req in enumerate(requests):
        head = 2 * i
        mem[data:data + 8] = req
        if indirect:
            table = 0x3800 + 32 * i
            struct.pack_into("<QIHH", mem, table, data, 8, 1, 1)
            struct.pack_into("<QIHH", mem, table + 16, data + 8, 64, 2, 0)
            struct.pack_into("<QIHH", mem, 16 * head, table, 32, 4, 0)
        else:
            struct.pack_into("<QIHH", mem, 16 * head, data, 8, 1, head + 1)
            struct.pack_into("<QIHH", mem, 16 * (head + 1), data + 8, 64, 2, 0)
        struct.pack_into("<H", mem, 0x1000 + 4 + 2 * i, head)
        data += 80
    struct.pack_into("<H", mem, 0x1000 + 2, len(requests))
    # eventq: one buffer for line 1
    struct.pack_into("<QIHH", mem, 0x4000, 0x7000, 2, 1, 1)
    struct.pack_into("<QIHH", mem, 0x4010, 0x7010, 1, 2, 0)
    struct.pack_into("<H", mem, 0x7000, 1)
    struct.pack_into("<H", mem, 0x5000 + 4, 0)
    struct.pack_into("<H", mem, 0x5000 + 2, 1)
    return bytes(mem)


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def vhost_seeds():
    u64 = lambda v: struct.pack("<Q", v)
    state = lambda i, n: struct.pack("<II", i, n)
    base = 0x7F0000000000
    rings = ring_image([gpio_request(2, 0, 0), gpio_request(3, 1, 1), gpio_request(5, 1, 1),
                        gpio_request(4, 1, 0), gpio_request(6, 2, 3), gpio_request(1, 0, 0)])
    handshake = [
        record(msg(GET_FEATURES, need_reply=False)),
        record(msg(GET_PROTOCOL_FEATURES, need_reply=False)),
        record(msg(SET_PROTOCOL_FEATURES, u64(0x1 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000))),
        record(msg(GET_QUEUE_NUM, need_reply=False)),
        record(msg(GET_MAX_MEM_SLOTS, need_reply=False)),
        record(msg(SET_OWNER)),
        record(msg(GET_CONFIG, struct.pack("<III", 0, 8, 0) + bytes(8), need_reply=False)),
        record(msg(SET_FEATURES, u64((1 << 32) | (1 << 30) | (1 << 29) | (1 << 28) | 1))),
    ]
    region = struct.pack("<QQQQQ", 0, 0, 0x10000, base, 0)
    memory = [record(msg(ADD_MEM_REG, region) + b"", fds=1, memfd=True)]
    queues = []
    for q, shift in ((0, 0), (1, 0x4000)):
        queues += [
            record(msg(SET_VRING_NUM, state(q, 16))),
            record(msg(SET_VRING_BASE, state(q, 0))),
            record(msg(SET_VRING_ADDR, struct.pack("<IIQQQQ", q, 0, base + shift, base + 0x2000 + shift,
                                                   base + 0x1000 + shift, 0))),
            record(msg(SET_VRING_KICK, u64(q)), fds=1),
            record(msg(SET_VRING_CALL, u64(q)), fds=1),
            record(msg(SET_VRING_ENABLE, state(q, 1))),
        ]
    tail = [record(msg(SET_STATUS, u64(0xF))), record(msg(GET_VRING_BASE, state(1, 0), need_reply=False)),
            record(msg(RESET_DEVICE))]
    # The memfd record carries the ring image as its fill pattern.
    memory = [struct.pack("<BH", 1 | 4, len(region) + 12 + len(rings)) + msg(ADD_MEM_REG, region) + rings]
    write("vhost_user", "handshake", b"".join(handshake + memory + queues + tail))
    table = struct.pack("<II", 1, 0) + region[8:]
    write("vhost_user", "mem_table", b"".join(handshake[:6] + [record(msg(SET_MEM_TABLE, table), 1, True)]))
    write("vhost_user", "bad_version", record(struct.pack("<III", 1, 2, 0)))


def virtqueue_seeds():
    header = lambda log2, feat: struct.pack("<BBHHHBB6x", log2, feat, 0, 0x1000, 0x2000, 2, 3)
    reqs = [gpio_request(t, g, v) for t, g, v in
            [(2, 0, 0), (3, 1, 1), (5, 1, 1), (4, 1, 0), (6, 2, 3), (6, 2, 0), (1, 0, 0), (3, 0, 2), (9, 9, 9)]]
    write("virtqueue", "direct", header(4, 1) + ring_image(reqs))
    write("virtqueue", "indirect", header(4, 3) + ring_image(reqs, indirect=True))
    write("virtqueue", "no_event_idx", header(4, 0) + ring_image(reqs[:3]))
    # A device carrying on from a kept state: line 1 an input with edge-both,
    # holding eventq head 0; line 2 an output at 1; the eventq at index 1.
    state = struct.pack("<BBBBHH", 0, 0, 0, 0, 0, 0) + struct.pack("<BBBBHH", 1, 0, 3, 2, 0, 0) + \
        struct.pack("<BBBBHH", 2, 1, 0, 0, 0, 0) + bytes(8 * 5) + struct.pack("<H", 1)
    image = ring_image(reqs[:3])
    image = image + bytes(max(0, 0x8000 - len(image)))
    write("virtqueue", "resumed", struct.pack("<BBHHHBBB5x", 4, 1, 0, 0x1000, 0x2000, 2, 3, 1) + image[:0x8000] + state)


def config_seeds():
    shutil.copy(os.path.join(HERE, "..", "..", "examples", "vgpio.toml"), os.path.join(OUT, "config", "example.toml"))
    write("config", "minimal.toml", b'[[device]]\nsocket = "a"\n[[device.line]]\nsimulated = true\n')
    write("config", "line_option", b"door=gpiochip0:5:in")
    write("config", "duration", b"2.5ms")
    write("config", "wires.toml", b'[[device]]\nname = "a"\nsocket = "a"\n[[device.line]]\nname = "o"\nsimulated = true\n'
          b'[[device]]\nname = "b"\nsocket = "b"\n[[device.line]]\nsimulated = true\n'
          b'[[wire]]\nfrom = "a:o"\nto = "b:0"\ndelay = "2ms"\ninvert = true\n')


if __name__ == "__main__":
    os.makedirs(os.path.join(OUT, "config"), exist_ok=True)
    vhost_seeds()
    virtqueue_seeds()
    config_seeds()
    print("seeds written to", OUT)
