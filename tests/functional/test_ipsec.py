# SPDX-License-Identifier: BSD-3-Clause
"""IPsec (ESP tunnel mode, AES-GCM, RFC 4303/4106) interop through the real binary.

contoso gets an "ipsec" section: what peerfwd sends toward the cloud is decrypted by
scapy's SecurityAssociation (the inner GRE packet and the customer's IP packet are
checked byte for byte) and decoded a second time by tshark with the SAs configured; what
scapy encrypts must come out on contoso's VLAN. Both AES-GCM key sizes, ESN on and off,
CPU crypto (crypto_aesni_gcm) and the asynchronous path (crypto_openssl).
Key files are generated at run time with mode 0600 (git does not keep modes)."""
import os
import struct

from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run, run_ok, check_drops, check_frames, check_event,
                       base_config, out_root, expected_fwd4, ip4_bytes, ip4_hdr_cksum_ok,
                       tshark_fields)
from scapy.layers.ipsec import ESP, SecurityAssociation

OUT_SPI, IN_SPI = 0x1001, 0x2001

# fixed test keys (key || 4-byte salt); never real ones
KEYS = {
    "aes-gcm-128": bytes(range(1, 17)) + b"\xa1\xa2\xa3\xa4",
    "aes-gcm-256": bytes(range(0x40, 0x60)) + b"\xb1\xb2\xb3\xb4",
}
SCAPY_ALG = "AES-GCM"
TSHARK_ALG = "AES-GCM with 16 octet ICV [RFC4106]"


def key_dir():
    d = out_root() / "ipsec_keys"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_key(name, key, mode=0o600):
    p = key_dir() / name
    if p.exists():
        os.chmod(p, 0o600)
    with open(p, "w") as f:
        f.write("# test key, %d bytes: key || salt\n%s\n" % (len(key), key.hex()))
    os.chmod(p, mode)
    return str(p)


def ipsec_config(out_alg, out_esn, in_alg, in_esn, window=None):
    cfg = base_config()
    c = [x for x in cfg["customers"] if x["name"] == "contoso"][0]
    insa = {"spi": IN_SPI, "direction": "in", "algorithm": in_alg,
            "key_file": write_key("in-%s.key" % in_alg, KEYS[in_alg]), "esn": in_esn}
    if window:
        insa["replay_window"] = window
    c["ipsec"] = {"sas": [
        {"spi": "0x%x" % OUT_SPI, "direction": "out", "algorithm": out_alg,
         "key_file": write_key("out-%s.key" % out_alg, KEYS[out_alg]), "esn": out_esn},
        insa]}
    return cfg


def sa_out(alg, esn):
    """scapy's view of peerfwd's outbound SA (it decrypts what peerfwd sent)."""
    return SecurityAssociation(ESP, spi=OUT_SPI, crypt_algo=SCAPY_ALG, crypt_key=KEYS[alg],
                               tunnel_header=IP(src=CORE_IP, dst=CONTOSO_TUN), esn_en=esn)


def sa_in(alg, esn):
    """scapy encrypts toward peerfwd's inbound SA."""
    return SecurityAssociation(ESP, spi=IN_SPI, crypt_algo=SCAPY_ALG, crypt_key=KEYS[alg],
                               tunnel_header=IP(src=CONTOSO_TUN, dst=CORE_IP), esn_en=esn)


def to_cloud(i):
    return mk_edge([555], IP(src=CONTOSO_ONPREM, dst="10.0.1.%d" % (i + 1), id=100 + i,
                             flags="DF" if i % 2 else 0, tos=0x20 * (i % 3)) /
                   UDP(sport=1000 + i, dport=80) / udp_payload(17 * i + 1))


def gre_pkt(inner, key=CONTOSO_KEY, src=CONTOSO_TUN, dst=CORE_IP):
    return IP(src=src, dst=dst, id=7) / GRE(key_present=1, key=key, proto=0x0800) / inner


def from_cloud_inner(i):
    return IP(src=VNET_HOST, dst=CONTOSO_ONPREM, id=300 + i) / UDP(sport=80, dport=2000 + i) / \
        udp_payload(11 * i + 3)


def esp_frame(sa, pkt, seq):
    """seq: 64-bit; scapy takes the low half and the ESN high half separately"""
    return mk_core(sa.encrypt(pkt, seq_num=seq & 0xffffffff, esn=seq >> 32))


def check_outbound(r, alg, esn, n, first_seq=1, what=""):
    sa = sa_out(alg, esn)
    esp = [f for f in r.core_out if f.haslayer(IP) and f[IP].proto == 50]
    eq(len(esp), n, what + " ESP frames toward the cloud")
    for k, f in enumerate(esp):
        w = "%s frame %d" % (what, k)
        eq(f[Ether].src, CORE_MAC, w + " eth src")
        eq(f[Ether].dst, GW_MAC, w + " eth dst")
        o = f[IP]
        eq((o.src, o.dst, o.ttl, o.proto), (CORE_IP, CONTOSO_TUN, 64, 50), w + " outer IPv4")
        check(ip4_hdr_cksum_ok(o), w + " outer checksum")
        eq(o[ESP].spi, OUT_SPI, w + " SPI")
        eq(o[ESP].seq, (first_seq + k) & 0xffffffff, w + " sequence number")
        raw = ip4_bytes(o)
        eq(raw[28:36], struct.pack("!Q", first_seq + k), w + " IV = 64-bit sequence number")
        eq((len(raw) - 20 - 8 - 8 - 16) % 4, 0, w + " ciphertext 4-byte aligned")
        ip = IP(raw)
        try:
            dec = sa.decrypt(ip, esn=(first_seq + k) >> 32)
        except Exception as e:  # noqa: BLE001
            check(False, "%s scapy cannot decrypt: %s" % (w, e))
            continue
        eq(dec.proto, 47, w + " decrypted: GRE outer proto")
        eq((dec.src, dec.dst), (CORE_IP, CONTOSO_TUN), w + " GRE outer addresses")
        eq(dec[GRE].key, CONTOSO_KEY, w + " GRE key")
        eq(o.flags.DF, dec.flags.DF, w + " DF copied from the GRE header")
        yield k, dec


def test_ipsec_gcm128_out_gcm256_esn_in():
    run_case("ipsec_a", "aes-gcm-128", False, "aes-gcm-256", True)


def test_ipsec_gcm256_esn_out_gcm128_in():
    run_case("ipsec_b", "aes-gcm-256", True, "aes-gcm-128", False)


def test_ipsec_openssl_async():
    run_case("ipsec_openssl", "aes-gcm-256", False, "aes-gcm-256", True,
             extra=("--crypto-dev", "crypto_openssl0"), device="crypto_openssl0")


def run_case(name, out_alg, out_esn, in_alg, in_esn, extra=(), device=None):
    cfg = ipsec_config(out_alg, out_esn, in_alg, in_esn)
    n = 12
    edge_in = [to_cloud(i) for i in range(n)]
    sai = sa_in(in_alg, in_esn)
    inner = [from_cloud_inner(i) for i in range(6)]
    core_in = [esp_frame(sai, gre_pkt(inner[i]), i + 1) for i in range(6)]
    # drops: a replay, an unknown SPI, a tampered ICV, plain GRE for contoso, dummy packet
    core_in.append(core_in[2])                                               # esp_replay
    bad_spi = SecurityAssociation(ESP, spi=0x7777, crypt_algo=SCAPY_ALG, crypt_key=KEYS[in_alg],
                                  tunnel_header=IP(src=CONTOSO_TUN, dst=CORE_IP), esn_en=in_esn)
    core_in.append(esp_frame(bad_spi, gre_pkt(inner[0]), 50))                 # esp_unknown_spi
    t = bytearray(bytes(esp_frame(sai, gre_pkt(inner[0]), 60)))
    t[-1] ^= 1
    core_in.append(Ether(bytes(t)))                                          # esp_bad_icv
    core_in.append(mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner[0]))               # gre_plain_on_ipsec
    other = SecurityAssociation(ESP, spi=IN_SPI, crypt_algo=SCAPY_ALG, crypt_key=KEYS[in_alg],
                                tunnel_header=IP(src="198.51.100.99", dst=CORE_IP), esn_en=in_esn)
    core_in.append(esp_frame(other, gre_pkt(inner[0]), 61))                  # esp_bad_tunnel
    # fabrikam's GRE (its key and endpoints) inside contoso's SA: esp_wrong_customer
    core_in.append(esp_frame(sai, gre_pkt(inner[0], key=FABRIKAM_KEY, src=FABRIKAM_TUN), 62))
    r = run_ok(name, edge_in=edge_in, core_in=core_in, config=cfg, extra_app=extra)
    if device:
        check(device in r.stderr, "log names the crypto device %s: %s" % (device, r.stderr[-300:]))
    decs = list(check_outbound(r, out_alg, out_esn, n, what=name))
    eq(len(decs), n, "decrypted outbound packets")
    for k, dec in decs:
        from pfharness import gre_inner
        _, g, inner_raw = gre_inner(Ether() / dec)
        eq(inner_raw, expected_fwd4(edge_in[k][IP]), "%s packet %d: inner IPv4 byte for byte" % (name, k))
    # inbound: six decrypted, routed to contoso's VLAN 555
    got = [f for f in r.edge_out if vlan_tags(f) == [(0x8100, 555)] and f.haslayer(UDP)]
    eq(len(got), 6, "inbound packets delivered on VLAN 555")
    for k, f in enumerate(got):
        eq(ip4_bytes(f[IP]), expected_fwd4(inner[k]), "%s inbound %d byte for byte" % (name, k))
    check_drops(r, {"esp_replay": 1, "esp_unknown_spi": 1, "esp_bad_icv": 1,
                    "gre_plain_on_ipsec": 1, "esp_bad_tunnel": 1, "esp_wrong_customer": 1})
    check_event(r, "esp_encrypted", n)
    check_event(r, "esp_decrypted", 7)
    ips = r.stats.get("ipsec")
    require(ips is not None, "stats JSON has no ipsec section")
    sas = {(s["direction"], s["spi"]): s for s in ips["sas"]}
    eq(sas[("out", OUT_SPI)]["seq"], n, "outbound SA seq")
    eq(sas[("out", OUT_SPI)]["packets"], n, "outbound SA packets")
    # the wrong-customer packet (62) verified: it moved the window, GRE dropped it
    eq(sas[("in", IN_SPI)]["seq"], 62, "inbound SA highest sequence number")
    eq(sas[("in", IN_SPI)]["packets"], 7, "inbound SA packets")
    blob = open(r.dir / "stats.json").read() + r.stdout + r.stderr
    for k in KEYS.values():
        check(k.hex() not in blob and k[:16].hex() not in blob, "key bytes leaked into output")
    # tshark decodes the same capture with the SAs configured
    uat = ['"IPv4","%s","%s","0x%08x","%s","0x%s","NULL",""' % (CORE_IP, CONTOSO_TUN, OUT_SPI,
                                                             TSHARK_ALG, KEYS[out_alg].hex())]
    rows = tshark_fields(r.path("core"), ["esp.spi", "esp.sequence", "gre.key", "udp.dstport"],
                         dfilter="esp",
                         extra=("-o", "esp.enable_encryption_decode:TRUE",
                                "-o", "uat:esp_sa:" + uat[0]))
    eq(len(rows), n, "tshark: ESP frames")
    if not out_esn:
        for k, row in enumerate(rows):
            check(row.get("gre.key") in ([str(CONTOSO_KEY)], ["0x%08x" % CONTOSO_KEY]),
                  "tshark frame %d GRE key inside ESP: %s" % (k, row.get("gre.key")))
            eq(row.get("udp.dstport"), ["80"], "tshark frame %d inner UDP port" % k)


def test_ipsec_esn_wrap_inbound():
    """ESN: packets across the 2^32 boundary of the low half are accepted in order, a
    packet from the previous epoch within the window too, the replay of it not."""
    cfg = ipsec_config("aes-gcm-128", True, "aes-gcm-128", True, window=64)
    sai = sa_in("aes-gcm-128", True)
    # (scapy cannot send a low half of 0: it takes seq_num=0 as "not given")
    seqs = [0xfffffffe, 0xffffffff, 0x100000001, 0x100000002, 0xfffffff0, 0xfffffff0]
    core_in = [esp_frame(sai, gre_pkt(from_cloud_inner(i)), s) for i, s in enumerate(seqs)]
    r = run_ok("ipsec_esn_wrap", core_in=core_in, config=cfg)
    got = [f for f in r.edge_out if f.haslayer(UDP)]
    eq(len(got), 5, "delivered across the ESN wrap")
    check_drops(r, {"esp_replay": 1})
    sas = {(s["direction"], s["spi"]): s for s in r.stats["ipsec"]["sas"]}
    eq(sas[("in", IN_SPI)]["seq"], 0x100000002, "inbound top with the high half")


def test_ipsec_bad_key_mode_refused():
    cfg = ipsec_config("aes-gcm-128", False, "aes-gcm-128", False)
    p = write_key("world.key", KEYS["aes-gcm-128"], mode=0o644)
    cfg["customers"][0]["ipsec"]["sas"][0]["key_file"] = p
    r = run("ipsec_bad_mode", config=cfg)
    eq(r.rc, 2, "exit status for a world-readable key file")
    check("must not be readable by group or others (mode 0644)" in r.stderr, r.stderr[-400:])
    check("customers[0].ipsec.sas[0].key_file" in r.stderr, "error names the field: " + r.stderr[-300:])
    check(KEYS["aes-gcm-128"].hex() not in r.stderr, "key in the error")
