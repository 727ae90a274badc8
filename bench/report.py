#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Summarise OUT/results.json (bench/pfbench.py) into OUT/RESULTS.md and OUT/*.png.

Adds the summary (medians, Gbps, ratios, instructions/packet) to results.json under
"summary", so that other tools need not recompute it.
Usage: report.py OUT
"""
import json
import os
import statistics
import sys

PROGRAMS = ["peerfwd", "l3fwd-lpm", "l3fwd-fib", "testpmd"]
TESTPMD_INPUT = {"encap": "edge4", "public": "edge4", "decap": "gre4", "encap6": "edge6"}
MIX_NAME = {"64": "64 B", "imix": "IMIX", "1400": "1400 B"}
L1_OVERHEAD = 4 + 20  # FCS + preamble/SFD + inter-frame gap


def l1_bits(mean_frame_bytes):
    """Bits a frame of this pcap length (no FCS) occupies on an Ethernet link."""
    return (mean_frame_bytes + L1_OVERHEAD) * 8


def agg(runs):
    ok = [r for r in runs if r.get("ok")]
    if not ok:
        return None
    m = [r["mpps"] for r in ok]
    meta = ok[0]["in_meta"]
    mean = meta["pf_mean_bytes"] if ok[0]["frames"] == "pf" else meta["l3_mean_bytes"]
    med = statistics.median(m)
    out = {"mpps": med, "mpps_min": min(m), "mpps_max": max(m), "n": len(ok),
           "frame_mean_bytes": mean, "gbps_l1": med * 1e6 * l1_bits(mean) / 1e9,
           "line_rate_pct": 100 * med * 1e6 * l1_bits(mean) / 10e9,
           "startup_s": statistics.median(r["startup_s"] for r in ok)}
    pc = [r["mpps_per_cpu_s"] for r in ok if r.get("mpps_per_cpu_s")]
    if pc:
        out["mpps_per_cpu_s"] = statistics.median(pc)
        out["cpu_share"] = statistics.median(r["cpu_share"] for r in ok if r.get("cpu_share"))
    cyc = [r["cycles_per_pkt"] for r in ok if r.get("cycles_per_pkt")]
    if cyc:
        out["cycles_per_pkt"] = statistics.median(cyc)
    self_rep = [r["own"].get("selfreport_mpps") for r in ok if r.get("own", {}).get(
        "selfreport_mpps")]
    if self_rep:
        out["selfreport_mpps"] = statistics.median(self_rep)
    drops = {}
    for r in ok:
        for k, v in r.get("own", {}).get("drops", {}).items():
            drops[k] = drops.get(k, 0) + v
    if drops:
        out["drops"] = drops
    fwd = [r["own"]["tx_packets"] / r["own"]["rx_packets"] for r in ok
           if r.get("own", {}).get("rx_packets")]
    if fwd:
        out["forwarded_fraction"] = min(fwd)
    return out


def paired_ratio(runs, refs, metric="mpps"):
    """Median over repetitions of peerfwd's figure / the reference's figure in the SAME
    repetition (runs seconds apart), which cancels slow drifts of the machine's load."""
    ref = {r["rep"]: r.get(metric) for r in refs if r.get("ok")}
    v = [r[metric] / ref[r["rep"]] for r in runs
         if r.get("ok") and r.get(metric) and ref.get(r["rep"])]
    return statistics.median(v) if v else None


def summarize(res):
    by_key = {}
    for r in res["runs"]:
        by_key.setdefault(r["key"], []).append(r)
    skipped = {s["key"]: s["why"] for s in res.get("skipped", [])}
    cg = {r["key"]: r for r in res.get("callgrind", []) if r.get("ok")}
    rows = []
    for key, runs in by_key.items():
        r0 = runs[0]
        if r0["program"] != "peerfwd" or r0["scenario"] == "esp":
            continue
        scen, table, mix = r0["scenario"], r0["table"], r0["mix"]
        fam = 6 if scen == "encap6" else 4
        row = {"scenario": scen, "table": table, "mix": mix, "family": fam}
        keys = {"peerfwd": key,
                "testpmd": "testpmd.%s.%s" % (TESTPMD_INPUT[scen], mix),
                "l3fwd-lpm": "l3fwd-lpm.v%d.%s.%s" % (fam, table, mix),
                "l3fwd-fib": "l3fwd-fib.v%d.%s.%s" % (fam, table, mix)}
        for prog, k in keys.items():
            if k in by_key:
                row[prog] = agg(by_key[k])
            elif k in skipped:
                row[prog] = {"skipped": skipped[k]}
            else:
                row[prog] = None
        row["ratio"], row["ratio_cpu"] = {}, {}
        for ref in ("testpmd", "l3fwd-lpm", "l3fwd-fib"):
            if keys[ref] in by_key:
                v = paired_ratio(runs, by_key[keys[ref]])
                if v is not None:
                    row["ratio"][ref] = v
                v = paired_ratio(runs, by_key[keys[ref]], "mpps_per_cpu_s")
                if v is not None:
                    row["ratio_cpu"][ref] = v
        rows.append(row)
    order = {"encap": 0, "public": 1, "decap": 2, "encap6": 3}
    tord = {t: i for i, t in enumerate(res.get("tables", {}))}
    mord = {"64": 0, "imix": 1, "1400": 2}
    rows.sort(key=lambda r: (order[r["scenario"]], tord.get(r["table"], 99), mord[r["mix"]]))
    # instructions per packet (callgrind, 64 B, small table)
    ins = []
    for scen in order:
        fam = 6 if scen == "encap6" else 4
        t = "cg6" if fam == 6 else "cg4"
        e = {"scenario": scen}
        for prog, k in (("peerfwd", "peerfwd.%s.%s.64" % (scen, t)),
                        ("testpmd", "testpmd.%s.64" % TESTPMD_INPUT[scen]),
                        ("l3fwd-lpm", "l3fwd-lpm.v%d.%s.64" % (fam, t)),
                        ("l3fwd-fib", "l3fwd-fib.v%d.%s.64" % (fam, t))):
            if k in cg:
                e[prog] = {"instr_per_pkt": cg[k]["instr_per_pkt"],
                           "by_object": cg[k].get("instr_per_pkt_by_object", {}),
                           "packets": cg[k]["packets"]}
        if len(e) > 1:
            ins.append(e)
    return {"rows": rows, "instructions": ins, "esp": summarize_esp(res, by_key, skipped)}


# ---------------------------------------------------------------- ESP

ESP_PROGS = [("secgw-cpu", "ipsec-secgw cpu-crypto"), ("secgw-la", "ipsec-secgw no-offload")]


def agg_cp(runs):
    ok = [r for r in runs if r.get("ok")]
    if not ok:
        return None
    m = [r["mops"] for r in ok]
    med = statistics.median(m)
    return {"mops": med, "mops_min": min(m), "mops_max": max(m), "n": len(ok),
            "gbps": statistics.median(r["gbps_exact"] for r in ok),
            "cycles_per_op": statistics.median(r["cycles_per_op"] for r in ok),
            "buffer_sizes": ok[0]["buffer_sizes"], "weights": ok[0]["weights"],
            "mean_encrypted_bytes": ok[0]["mean_encrypted_bytes"],
            "mops_per_cpu_s": statistics.median(r["mops_per_cpu_s"] for r in ok)
            if all(r.get("mops_per_cpu_s") for r in ok) else None,
            "cpu_share": statistics.median(r["cpu_share"] for r in ok)
            if all(r.get("cpu_share") for r in ok) else None}


def paired(runs, refs, m1="mpps", m2="mpps"):
    ref = {r["rep"]: r.get(m2) for r in refs if r.get("ok")}
    v = [r[m1] / ref[r["rep"]] for r in runs if r.get("ok") and r.get(m1) and ref.get(r["rep"])]
    return statistics.median(v) if v else None


def summarize_esp(res, by_key, skipped):
    """The ESP table: peerfwd (per table), ipsec-secgw (both SA types) and crypto-perf (same
    device, same encrypted sizes) per frame mix; instructions/packet; the issue's goals."""
    esp = res.get("esp")
    if not esp:
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import espbench
    cp_by = {}
    for r in res.get("cryptoperf", []):
        cp_by.setdefault(r["key"], []).append(r)
    dev = esp["crypto_dev"]
    ver = esp.get("verify", {})
    mixes = [m for m in ("64", "imix", "1400") if any(
        k.endswith("." + m) and ".esp." in k for k in list(by_key) + list(skipped)) or any(
        ".%s." % m in k for k in cp_by)]
    tables = list(dict.fromkeys(k.split(".")[2] for k in list(by_key) + list(skipped)
                                if k.startswith("peerfwd.esp.")))
    rows = []
    for mix in mixes:
        enc_pf = espbench.mix_lengths(mix, True)[1]
        enc_sg = espbench.mix_lengths(mix, False)[1]
        cp_pf_k = "cryptoperf.esp.%s.%s.pf" % (dev, mix)
        cp_sg_k = "cryptoperf.esp.%s.%s.secgw" % (dev, mix)
        cp_pf, cp_sg = cp_by.get(cp_pf_k, []), cp_by.get(cp_sg_k, [])
        sg = {p: by_key.get("%s.esp.%s" % (p, mix), []) for p, _ in ESP_PROGS}
        progs = []
        for t in tables:
            k = "peerfwd.esp.%s.%s" % (t, mix)
            e = {"program": "peerfwd", "label": "peerfwd (%s routes)" % t, "table": t,
                 "enc_bytes": enc_pf, "cp": agg_cp(cp_pf),
                 "verified": ver.get("peerfwd", {}).get("ok")}
            if k in skipped:
                e["skipped"] = skipped[k]
            elif k in by_key:
                e["agg"] = agg(by_key[k])
                runs = by_key[k]
                e["ratio_cp"] = paired(runs, [dict(r, mpps=r["mops"]) for r in cp_pf])
                e["ratio_cp_cpu_s"] = paired(runs, cp_pf, "mpps_per_cpu_s", "mops_per_cpu_s")
                e["ratio_secgw"] = {p: paired(runs, sg[p]) for p, _ in ESP_PROGS if sg[p]}
                e["ratio_secgw_cpu_s"] = {p: paired(runs, sg[p], "mpps_per_cpu_s",
                                                    "mpps_per_cpu_s")
                                          for p, _ in ESP_PROGS if sg[p]}
            progs.append(e)
        for p, label in ESP_PROGS:
            k = "%s.esp.%s" % (p, mix)
            e = {"program": p, "label": label, "enc_bytes": enc_sg, "cp": agg_cp(cp_sg),
                 "verified": ver.get(p, {}).get("ok")}
            if k in skipped:
                e["skipped"] = skipped[k]
            elif sg[p]:
                e["agg"] = agg(sg[p])
                e["ratio_cp"] = paired(sg[p], [dict(r, mpps=r["mops"]) for r in cp_sg])
                e["ratio_cp_cpu_s"] = paired(sg[p], cp_sg, "mpps_per_cpu_s", "mops_per_cpu_s")
            progs.append(e)
        for e in progs:
            a = e.get("agg")
            if a:
                e["enc_gbps"] = a["mpps"] * 1e6 * e["enc_bytes"] * 8 / 1e9
        rows.append({"mix": mix, "progs": progs})
    # crypto-perf, every device
    cpt = []
    for d in esp.get("devices", {}) or {}:
        for mix in mixes:
            e = {"device": d, "mix": mix}
            for who in ("pf", "secgw"):
                e[who] = agg_cp(cp_by.get("cryptoperf.esp.%s.%s.%s" % (d, mix, who), []))
            if e["pf"] or e["secgw"]:
                cpt.append(e)
    # callgrind at 64 B
    cg = {r["key"]: r for r in res.get("callgrind", []) if r.get("ok")}
    ins = []
    for k, r in sorted(cg.items()):
        if ".esp." in k:
            ins.append({"key": k, "program": r["program"], "instr_per_pkt": r["instr_per_pkt"],
                        "packets": r["packets"],
                        "by_object": r.get("instr_per_pkt_by_object", {})})
    # the goals: judged on the per-CPU-second ratios (less noisy; the wall-clock
    # figures are shown next to them), and only for output that passed the ESP check
    goals = []

    def both(w, c, unit="×"):
        return "wall %s%s, per CPU-s %s%s" % (fmt(w), unit, fmt(c), unit)

    def verdict(e, w, c, ok):
        if e.get("verified") is False:
            return None
        v = c if c is not None else w
        return None if v is None else ok(v)
    for r in rows:
        for e in [e for e in r["progs"] if e["program"] == "peerfwd" and e.get("agg")]:
            rs, rc = e.get("ratio_secgw", {}), e.get("ratio_secgw_cpu_s", {})
            w = min(rs.values()) if rs else None
            c = min((v for v in rc.values() if v is not None), default=None)
            goals.append({"goal": "%s, %s: Mpps ≥ ipsec-secgw's (both SA types)" % (
                e["label"], MIX_NAME[r["mix"]]), "value": both(w, c),
                "met": verdict(e, w, c, lambda v: v >= 1.0)})
            if r["mix"] == "1400":
                w, c = e.get("ratio_cp"), e.get("ratio_cp_cpu_s")
                goals.append({"goal": "%s, 1400 B: ≥ 0.8 × crypto-perf (%s, same sizes)" % (
                    e["label"], dev), "value": both(w, c),
                    "met": verdict(e, w, c, lambda v: v >= 0.8)})
                a = e["agg"]
                g = a["gbps_l1"]
                gc = (a["mpps_per_cpu_s"] * 1e6 * l1_bits(a["frame_mean_bytes"]) / 1e9
                      if a.get("mpps_per_cpu_s") else None)
                goals.append({"goal": "%s, 1400 B: ≥ 10 Gbps (L1, customer frames) on one "
                              "core" % e["label"], "value": both(g, gc, " Gbps"),
                              "met": verdict(e, g, gc, lambda v: v >= 10)})
    pfi = [i for i in ins if i["program"] == "peerfwd"]
    sgi = [i for i in ins if i["program"].startswith("secgw")]
    if pfi and sgi:
        lo = min(i["instr_per_pkt"] for i in sgi)
        goals.append({"goal": "64 B: instructions/packet ≤ ipsec-secgw's (both SA types)",
                      "value": "%.0f vs %.0f" % (pfi[0]["instr_per_pkt"], lo),
                      "met": None if ver.get("peerfwd", {}).get("ok") is False else
                      pfi[0]["instr_per_pkt"] <= lo})
    return {"device": dev, "rows": rows, "cryptoperf": cpt, "instructions": ins,
            "goals": goals}


def esp_md(res, e):
    esp = res["esp"]
    L = ["", "## ESP (IPsec tunnel mode, AES-GCM-128)", ""]
    L.append("peerfwd: VLAN 555 → FIB (private context) → GRE (key 1001) → ESP tunnel mode "
             "(SPI 4097, AES-GCM-128, 192.0.2.1 → 198.51.100.1) → core, on the encap "
             "scenario's frames. **ipsec-secgw** (DPDK's example, `bench/secgw_patch.py`): "
             "the same SA (key, SPI, endpoints) on the same IP packets untagged, one SP rule "
             "protecting everything, one route; it does no GRE, no VLAN and no FIB lookup of "
             "the customer's destination, and encrypts 28 bytes less per packet. "
             "**crypto-perf**: `dpdk-test-crypto-perf --ptest throughput`, AES-GCM-128 AEAD "
             "encrypt, 12-byte nonce, 8-byte AAD, 16-byte ICV, burst 32, one worker lcore, "
             "buffer sizes = the bytes each program encrypts for these frames (IMIX with "
             "`--imix 7,4,1`): crypto only, no packet I/O, no headers — the ceiling a "
             "forwarder using the same device on one core cannot exceed. Crypto device of "
             "all three: **%s** (`--vdev %s`)." % (esp["crypto_dev"], esp["crypto_vdev"]))
    if esp.get("fatal"):
        L += ["", "**ESP runs skipped: %s.**" % esp["fatal"]]
    L.append("")
    L.append("| frames | program | Mpps | Mpps/CPU-s (CPU share) | Gbps L1 (input frames) "
             "| encrypted Gbps (bytes/pkt) | crypto-perf MOps; per CPU-s (CPU share), same "
             "sizes | program / crypto-perf: wall; per CPU-s | peerfwd / secgw cpu-crypto: "
             "wall; per CPU-s | peerfwd / secgw no-offload: wall; per CPU-s |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for r in e["rows"]:
        for p in r["progs"]:
            a = p.get("agg")
            cp = p.get("cp")
            cps = "%.2f%s; %s" % (cp["mops"], " (%.2f–%.2f)" % (cp["mops_min"], cp["mops_max"])
                                  if cp["n"] > 1 else "",
                                  "%.2f (%.0f %%)" % (cp["mops_per_cpu_s"], 100 * cp["cpu_share"])
                                  if cp.get("mops_per_cpu_s") else "–") if cp else "–"
            label = p["label"] + (" — **output check FAILED**" if p.get("verified") is False
                                  else "")
            if "skipped" in p:
                if p["skipped"] not in notes:
                    notes.append(p["skipped"])
                mark = "not run" + "²³⁴⁵"[notes.index(p["skipped"])]
                L.append("| %s | %s | %s | | | | %s | | | |" % (MIX_NAME[r["mix"]], label,
                                                               mark, cps))
                continue
            if not a:
                L.append("| %s | %s | failed | | | | %s | | | |" % (MIX_NAME[r["mix"]],
                                                                  label, cps))
                continue
            pc = ("%.2f (%.0f %%)" % (a["mpps_per_cpu_s"], 100 * a["cpu_share"])
                  if a.get("mpps_per_cpu_s") else "–")
            rs, rc = p.get("ratio_secgw", {}), p.get("ratio_secgw_cpu_s", {})

            def two(x, y):
                return "" if x is None and y is None else "%s; %s" % (fmt(x), fmt(y))
            L.append("| %s | %s | **%.2f**%s | %s | %.2f | %.2f (%.0f) | %s | %s | %s | %s |" % (
                MIX_NAME[r["mix"]], label, a["mpps"], spread(a), pc, a["gbps_l1"],
                p["enc_gbps"], p["enc_bytes"], cps, two(p.get("ratio_cp"),
                                                        p.get("ratio_cp_cpu_s")),
                two(rs.get("secgw-cpu"), rc.get("secgw-cpu")),
                two(rs.get("secgw-la"), rc.get("secgw-la"))))
    for i, n in enumerate(notes):
        L.append("")
        L.append("%s %s." % ("²³⁴⁵"[i], n))
    own = []
    for r in e["rows"]:
        for p in r["progs"]:
            a = p.get("agg")
            if p["program"] == "peerfwd" and a:
                own.append("%s %s: sent/received %s, drops %s" % (
                    p["table"], MIX_NAME[r["mix"]], fmt(a.get("forwarded_fraction"), 4),
                    ", ".join("%s %d" % kv for kv in a.get("drops", {}).items()) or "none"))
    if own:
        L.append("")
        L.append("peerfwd's own counters (`--stats-json`, lowest sent/received over the "
                 "repetitions, drops summed): " + "; ".join(own) + ".")
    L.append("")
    L.append("Mpps: the null (ESP) port's packets in the telemetry window, as everywhere in "
             "this report. Gbps L1 = Mpps × (input frame + 24) × 8 of the program's own input "
             "frames (peerfwd's carry the VLAN tag). Encrypted Gbps = Mpps × the bytes AES-GCM "
             "runs over per packet (mean over the mix, in brackets), the same measure as "
             "crypto-perf's Gbps. Ratios: median over repetitions of the per-repetition ratio "
             "(crypto-perf runs in the same repetition, right after the forwarders); "
             "'program / crypto-perf' uses crypto-perf on that program's own sizes. Per CPU-s: "
             "packets (operations) per second of CPU the forwarding thread (crypto-perf's "
             "worker lcore) actually got, from /proc/…/schedstat. For crypto-perf this matters "
             "more than for the forwarders: its main lcore busy-waits for the worker "
             "(rte_eal_mp_wait_lcore) and so takes one of the two vCPUs for the whole test, "
             "leaving the worker to share the other one with the rest of the machine.")
    if e["cryptoperf"]:
        L.append("")
        L.append("**dpdk-test-crypto-perf** (throughput, AES-GCM-128 encrypt, burst 32, one "
                 "lcore; median, min–max)")
        L.append("")
        L.append("| device | frames | peerfwd's sizes (B) | MOps | MOps/CPU-s (CPU share) | "
                 "Gbps | cycles/op | secgw's sizes (B) | MOps | MOps/CPU-s (CPU share) | Gbps "
                 "| cycles/op |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")

        def c(x):
            if not x:
                return "– | – | – | – | –"
            sz = "/".join(str(b) for b in x["buffer_sizes"])
            if len(x["weights"]) > 1:
                sz += " (%s)" % ":".join(str(w) for w in x["weights"])
            return "%s | %.2f%s | %s | %.2f | %.0f" % (
                sz, x["mops"], " (%.2f–%.2f)" % (x["mops_min"], x["mops_max"])
                if x["n"] > 1 else "", "%.2f (%.0f %%)" % (x["mops_per_cpu_s"],
                                                          100 * x["cpu_share"])
                if x.get("mops_per_cpu_s") else "–", x["gbps"], x["cycles_per_op"])
        for r in e["cryptoperf"]:
            L.append("| %s | %s | %s | %s |" % (r["device"], MIX_NAME[r["mix"]], c(r["pf"]),
                                                c(r["secgw"])))
        L.append("")
        L.append("cycles/op is crypto-perf's own figure (TSC cycles of the whole run / "
                 "operations, so time slices lost to other processes count). MOps is what a "
                 "forwarder's Mpps compares to: one crypto operation per packet; crypto-perf "
                 "also pays for crypto-op and mbuf handling, not for packet I/O or headers.")
    if e["instructions"]:
        L.append("")
        L.append("**Instructions per packet** (callgrind, forwarding lcore, 64 B, 10k-route "
                 "table for peerfwd)")
        L.append("")
        L.append("| program | instructions/packet | top objects (instructions/packet) |")
        L.append("|---|---|---|")
        for i in e["instructions"]:
            L.append("| %s | **%.0f** | %s |" % (i["program"], i["instr_per_pkt"], ", ".join(
                "%s %.0f" % kv for kv in list(i["by_object"].items())[:7])))
        L.append("")
        L.append("Under valgrind the CPU looks different: valgrind 3.19 reports no VAES, "
                 "VPCLMULQDQ or AVX-512, so intel-ipsec-mb may take another code path than "
                 "natively; both programs get the same one, so the comparison holds, the "
                 "absolute crypto share does not.")
    if not any(p["program"] == "peerfwd" and p.get("agg") for r in e["rows"]
               for p in r["progs"]):
        why = [p.get("skipped") for r in e["rows"] for p in r["progs"]
               if p["program"] == "peerfwd" and p.get("skipped")]
        L.append("")
        L.append("**The issue's goals**: not evaluated, peerfwd's ESP was not measured (%s)."
                 % (why[0] if why else "no peerfwd ESP run"))
    if e["goals"]:
        L.append("")
        L.append("**The issue's goals** (this run)")
        L.append("")
        L.append("Judged on the per-CPU-second figures when they exist (the wall-clock ones "
                 "move ±30 % with the machine's load), and only for output that passed the "
                 "output check below.")
        L.append("")
        L.append("| goal | measured | met |")
        L.append("|---|---|---|")
        for g in e["goals"]:
            L.append("| %s | %s | %s |" % (g["goal"], g["value"] or "–",
                                          "–" if g["met"] is None else
                                          ("yes" if g["met"] else "**no**")))
    ver = esp.get("verify", {})
    if ver:
        L.append("")
        L.append("**Output check** (before the measurements, IMIX input sent once, ESP port "
                 "writing a pcap; scapy decrypts it with the SA's key and compares with the "
                 "input): " + "; ".join(
                     "%s %s (%s of %s packets, encrypted lengths %s)" % (
                         k, "ok" if v.get("ok") else ("FAILED" if v.get("ok") is False
                                                      else v.get("note", "not checked")),
                         v.get("matched"), v.get("packets"), ", ".join(
                             "%s B × %d" % kv for kv in sorted(
                                 v.get("encrypted_len", {}).items(), key=lambda kv: int(kv[0]))))
                     for k, v in ver.items()) + ".")
    L.append("")
    L.append("**ESP sizes** (bytes; frames are untagged Ethernet with FCS as in the other "
             "tables; peerfwd's payload is its GRE packet: inner IP + outer IPv4 20 + GRE 8 "
             "with key; encrypted = payload + 0–3 pad + 2 trailer; ESP IP packet = outer IPv4 "
             "20 + SPI/SN 8 + IV 8 + encrypted + ICV 16)")
    L.append("")
    L.append("| frame | inner IP | peerfwd payload | peerfwd encrypted | peerfwd ESP packet | "
             "secgw encrypted | secgw ESP packet |")
    L.append("|---|---|---|---|---|---|---|")
    seen = set()
    for z in esp["sizes"]:
        if z["frame"] in seen:
            continue
        seen.add(z["frame"])
        L.append("| %d | %d | %d | %d | %d | %d | %d |" % (
            z["frame"], z["inner_ip"], z["peerfwd_plaintext"], z["peerfwd_encrypted"],
            z["peerfwd_esp_ip"], z["secgw_encrypted"], z["secgw_esp_ip"]))
    return L


def esp_chart(out, e, plt):
    rows = e["rows"]
    if not any(p.get("agg") or p.get("cp") for r in rows for p in r["progs"]):
        return None
    labels = []
    for r in rows:
        for p in r["progs"]:
            if p["label"] not in labels:
                labels.append(p["label"])
    series = labels + ["crypto-perf (peerfwd sizes)", "crypto-perf (secgw sizes)"]
    panels = [("wall", "Mpps / MOps (wall clock)")]
    if any(p.get("agg", {}).get("mpps_per_cpu_s") for r in rows for p in r["progs"]):
        panels.append(("cpu", "per second of CPU the thread got"))
    n = len(panels) + (1 if e["instructions"] else 0)
    fig, axes = plt.subplots(n, 1, figsize=(11, 3.6 * n), squeeze=False)
    w = 0.8 / len(series)
    cmap = plt.get_cmap("tab10")
    for pi, (kind, ylabel) in enumerate(panels):
        ax = axes[pi, 0]
        for i, sname in enumerate(series):
            xs, ys, lo, hi = [], [], [], []
            for j, r in enumerate(rows):
                d = None
                if sname.startswith("crypto-perf"):
                    who = "peerfwd" if "peerfwd" in sname else "secgw"
                    cp = next((p["cp"] for p in r["progs"]
                               if p["program"].startswith(who) and p.get("cp")), None)
                    if cp and kind == "wall":
                        d = (cp["mops"], cp["mops_min"], cp["mops_max"])
                    elif cp and cp.get("mops_per_cpu_s"):
                        d = (cp["mops_per_cpu_s"],) * 3
                else:
                    a = next((p["agg"] for p in r["progs"]
                              if p["label"] == sname and p.get("agg")), None)
                    if a and kind == "wall":
                        d = (a["mpps"], a["mpps_min"], a["mpps_max"])
                    elif a and a.get("mpps_per_cpu_s"):
                        d = (a["mpps_per_cpu_s"],) * 3
                if d:
                    xs.append(j + (i - (len(series) - 1) / 2) * w)
                    ys.append(d[0])
                    lo.append(d[0] - d[1])
                    hi.append(d[2] - d[0])
            if xs:
                ax.bar(xs, ys, w, yerr=[lo, hi] if kind == "wall" else None, capsize=2,
                       label=sname, color=cmap(i))
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([MIX_NAME[r["mix"]] for r in rows])
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3, which="both")
        if pi == 0:
            ax.set_title("ESP AES-GCM-128, one core (%s): forwarders' Mpps, crypto-perf's MOps "
                         "(median; log scale)" % e["device"])
            ax.legend(fontsize=7)
    if e["instructions"]:
        ax = axes[n - 1, 0]
        ins = e["instructions"]
        parts = [("libIPSec_MB", "#9467bd"), ("librte_crypto_ipsec_mb", "#c5b0d5"),
                 ("librte_net_pcap", "#ff7f0e"), ("librte_net_null", "#2ca02c")]
        bottom = [0.0] * len(ins)
        for name, c in parts:
            v = [i["by_object"].get(name, 0) for i in ins]
            ax.bar(range(len(ins)), v, 0.6, bottom=bottom, label=name, color=c)
            bottom = [b + x for b, x in zip(bottom, v)]
        rest = [i["instr_per_pkt"] - b for i, b in zip(ins, bottom)]
        ax.bar(range(len(ins)), rest, 0.6, bottom=bottom, color="#d62728",
               label="program + its libraries (librte_ipsec, ACL, …)")
        ax.set_xticks(range(len(ins)))
        ax.set_xticklabels([i["program"] for i in ins])
        ax.set_ylabel("instructions / packet (64 B)")
        ax.set_title("callgrind, forwarding lcore, 64 B")
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "esp.png"), dpi=90)
    plt.close(fig)
    return "esp.png"


def fmt(x, nd=2):
    return "–" if x is None else ("%.*f" % (nd, x))


def cell(d, nd=2):
    if d is None:
        return "–"
    if "skipped" in d:
        return "not run¹"
    return "%.*f" % (nd, d["mpps"])


def spread(d):
    if not d or "mpps" not in d:
        return ""
    return " (%.2f–%.2f)" % (d["mpps_min"], d["mpps_max"]) if d["n"] > 1 else ""


def march_line(meta):
    m = meta.get("march") or {}
    return ("Compiler target: peerfwd and l3fwd both built with **-march=%s** (last on their "
            "compile lines, after DPDK's own); testpmd: %s." %
            (m.get("peerfwd", "?"), m.get("testpmd", "?")))


def churn_lines(out):
    """The table of bench/churn_bench.py (OUT/churn.json), if it ran."""
    path = os.path.join(out, "churn.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        ch = json.load(f)
    m = ch["meta"]
    L = ["", "## Forwarding during route churn", "",
         "peerfwd forwards %s %s B frames (%d destinations) with a %d-route static table in "
         "the private context while its ExaBGP feed socket receives updates for the *same* "
         "context at a paced target rate: announcements and withdrawals of prefixes that "
         "contain none of the destinations (at most %d announced at a time), and every %dth "
         "update a more-specific (/25–/29) of a route the traffic uses, announced or "
         "withdrawn with the same next hop (the GRE tunnel), so the FIB entries under the "
         "traffic change while forwarding must stay exact. %d NLRIs per update line. Each "
         "repetition is one peerfwd process: a baseline window without updates, one window "
         "per rate (after %.1f s at that rate), and a baseline again; windows of %.1f s; "
         "ratio = churn Mpps / mean of both baselines (same process). \"Applied\" is "
         "peerfwd's own applier counter (`/peerfwd/applier` telemetry) over the window. The "
         "feed writer runs on the CPUs the forwarding lcore does not use (CPUs %s), with "
         "peerfwd's control and feed threads. Memory: %s." % (
             m["scenario"], m["mix"], m["flows"], m["routes"], m["live_max"],
             int(round(1 / m["cover_fraction"])), m["per_line"], m["churn_warmup_s"],
             m["window_s"], ",".join(map(str, m.get("harness_cpus", []))),
             m.get("memory", {}).get("mode", "?")), "",
         "| target updates/s | applied updates/s (median, lowest) | Mpps during churn | "
         "baseline Mpps | churn / baseline (min–max) | per CPU-s: churn / baseline | "
         "forwarding thread CPU share | other processes on its CPU | drops during churn |",
         "|---|---|---|---|---|---|---|---|---|"]
    for r in ch.get("summary", []):
        drops = ", ".join("%s %d" % kv for kv in r["drops"].items())
        L.append("| %d | %s (%s) | %s | %s | **%s** (%s–%s) | **%s** | %s | %s | %s |" % (
            r["target_per_s"], fmt(r["applied_per_s"], 0), fmt(r["applied_per_s_min"], 0),
            fmt(r["mpps"]), fmt(r["baseline_mpps"]), fmt(r["ratio"]), fmt(r["ratio_min"]),
            fmt(r["ratio_max"]), fmt(r["ratio_per_cpu_s"]),
            "%.0f %%" % (100 * r["cpu_share"]) if r.get("cpu_share") else "–",
            "%.0f %%" % (100 * r["fwd_cpu_others_share"])
            if r.get("fwd_cpu_others_share") is not None else "–",
            ("⚠ " + drops) if drops else "none (no_route 0)"))
    failed = [r for r in ch["runs"] if not r.get("ok")]
    L.append("")
    L.append("The per-CPU-second ratio is the one to read on a shared machine: \"other "
             "processes on its CPU\" is the forwarding CPU's busy time (/proc/stat) not spent "
             "in the forwarding thread, i.e. other programs the scheduler put there while the "
             "feed, the control thread and the harness kept the other CPU busy.")
    L.append("")
    L.append("%d repetition(s)%s; %d failed%s." % (
        len(ch["runs"]), ", median shown" if len(ch["runs"]) > 1 else "", len(failed),
        "".join(" (rep %d: %s)" % (r["rep"], r.get("error")) for r in failed)))
    return L


def window_drops_lines(res):
    """peerfwd's drops during the measured windows (its /peerfwd/drops telemetry command,
    read at both ends of each window); runs with drops are flagged."""
    runs = [r for r in res["runs"] if r.get("program") == "peerfwd" and r.get("ok")]
    unread = [r["key"] for r in runs if r.get("window_drops") is None]
    bad = [r for r in runs if r.get("window_drops")]
    L = ["", "**Drops during the window** (peerfwd telemetry `/peerfwd/drops`, both ends of "
         "each window): "]
    if not bad:
        L[-1] += "none in %d run(s)%s." % (
            len(runs) - len(unread), "; not readable in %s" % ", ".join(unread) if unread else "")
        return L
    L[-1] += "**%d run(s) dropped packets** — their Mpps do not measure clean forwarding:" % len(bad)
    L.append("")
    for r in bad:
        L.append("* ⚠ %s rep %d: %s" % (r["key"], r["rep"], ", ".join(
            "%s %d" % kv for kv in sorted(r["window_drops"].items()))))
    return L


def write_md(out, res, summ, charts):
    meta = res["meta"]
    mc = meta.get("machine", {})
    io_cost = "about 200"
    for e in summ["instructions"]:
        if e["scenario"] == "encap" and "testpmd" in e:
            io_cost = "%.0f" % e["testpmd"]["instr_per_pkt"]
    L = []
    L.append("# peerfwd throughput: results of `bench/run.sh%s`" %
             (" --quick" if meta.get("quick") else ""))
    L.append("")
    L.append("Started %s, %.0f s. Machine: %s, %s cores, kernel %s, DPDK %s; peerfwd %s "
             "(binary sha256 %s, built %s). Load average (1 min) at start %.2f, at end %.2f." %
             (meta.get("started"), meta.get("elapsed_s", 0), mc.get("cpu", "?"),
              mc.get("nproc"), mc.get("kernel"), mc.get("dpdk"), mc.get("peerfwd_git", "?"),
              mc.get("peerfwd_sha256", "?"), mc.get("peerfwd_built", "?"),
              meta["load_start"][0], meta.get("load_end", [0])[0]))
    L.append("")
    L.append(march_line(meta))
    L.append("")
    L.append("Memory: **%s** (%s). %d repetition(s) per figure, median shown (min–max in "
             "brackets); %.1f s warm-up after the first forwarded packet, then a %.1f s "
             "window. pcap (infinite_rx, %d frames, one per destination) → null, one "
             "forwarding core each. perf cycles/packet: %s." %
             (meta["memory"]["mode"], meta["memory"]["note"], meta["reps"], meta["warmup_s"],
              meta["window_s"], meta["flows"],
              "see table" if meta["perf"]["supported"] else "unsupported here (" +
              meta["perf"]["note"].split(":")[0] + ")"))
    L.append("")
    L.append("> Mpps measured on a shared, busy 2-core VM (other builds and tests running): "
             "expect ±30 %% between runs. The instruction counts are the stable figure; the "
             "ratios (same run, same flows, paired by repetition) cancel part of the noise. "
             "The pcap PMD's copy into a fresh mbuf is a large part of every program's cost "
             "(%s instructions of a 64 B packet in testpmd io), so absolute Mpps say little "
             "about a NIC." % io_cost)
    L.append("")
    if summ["rows"]:
        L.append("## Throughput")
        L.append("")
        L.append("| scenario | table | frames | peerfwd Mpps | peerfwd Gbps (L1) | % of 10G | "
                 "l3fwd-lpm Mpps | l3fwd-fib Mpps | testpmd io Mpps | peerfwd / testpmd | "
                 "peerfwd / lpm | peerfwd / fib |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in summ["rows"]:
            pf = r["peerfwd"]
            L.append("| %s | %s | %s | **%s**%s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["scenario"], r["table"], MIX_NAME[r["mix"]], cell(pf), spread(pf),
                fmt(pf and pf.get("gbps_l1")), fmt(pf and pf.get("line_rate_pct"), 0),
                cell(r["l3fwd-lpm"]), cell(r["l3fwd-fib"]), cell(r["testpmd"]),
                fmt(r["ratio"].get("testpmd")), fmt(r["ratio"].get("l3fwd-lpm")),
                fmt(r["ratio"].get("l3fwd-fib"))))
        lpm_skips = [s for s in res.get("skipped", []) if s["program"] == "l3fwd-lpm"]
        if lpm_skips and summ["rows"]:
            L.append("")
            L.append("¹ " + lpm_skips[0]["why"] + ".")
        L.append("")
        L.append("Scenarios: " + "; ".join("**%s** %s" % (k, v) for k, v in
                                           meta["scenarios"].items()) + ". l3fwd routes the same "
                 "IP packets untagged with the same table (every route to the null port); "
                 "testpmd io forwards peerfwd's exact input frames untouched. Ratios are the "
                 "median over repetitions of peerfwd / reference within the same repetition. "
                 "Gbps (L1) = Mpps × "
                 "(frame + 4 B FCS + 20 B preamble/gap) × 8 of the program's input frames; "
                 "\"% of 10G\" is that against 10 Gbit/s.")
    if any(r["peerfwd"] and r["peerfwd"].get("mpps_per_cpu_s") for r in summ["rows"]):
        L.append("")
        L.append("### Per second of CPU the forwarding thread actually got")
        L.append("")
        L.append("Other processes (builds, tests, other forwarders polling) take time slices "
                 "from the forwarding core. From the forwarding thread's "
                 "`/proc/PID/task/TID/schedstat` over the same window: **CPU share** = its "
                 "on-CPU time / wall time, and **Mpps/CPU-s** = packets / its on-CPU "
                 "seconds. This removes lost time slices, not the cache and TLB damage done "
                 "by whoever ran in between, so it is still an estimate, but a less noisy one.")
        L.append("")
        L.append("| scenario | table | frames | peerfwd Mpps/CPU-s (CPU share) | l3fwd-lpm | "
                 "l3fwd-fib | testpmd io | peerfwd / testpmd | peerfwd / lpm | "
                 "peerfwd / fib |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")

        def pc(d):
            if d is None:
                return "–"
            if "skipped" in d:
                return "not run¹"
            if not d.get("mpps_per_cpu_s"):
                return "–"
            return "%.2f (%.0f %%)" % (d["mpps_per_cpu_s"], 100 * d["cpu_share"])
        for r in summ["rows"]:
            L.append("| %s | %s | %s | **%s** | %s | %s | %s | %s | %s | %s |" % (
                r["scenario"], r["table"], MIX_NAME[r["mix"]], pc(r["peerfwd"]),
                pc(r["l3fwd-lpm"]), pc(r["l3fwd-fib"]), pc(r["testpmd"]),
                fmt(r["ratio_cpu"].get("testpmd")), fmt(r["ratio_cpu"].get("l3fwd-lpm")),
                fmt(r["ratio_cpu"].get("l3fwd-fib"))))
    if any(r["peerfwd"] and r["peerfwd"].get("cycles_per_pkt") for r in summ["rows"]):
        L.append("")
        L.append("| scenario | table | frames | " + " | ".join(
            "%s cycles/pkt" % p for p in PROGRAMS) + " |")
        L.append("|---|---|---|" + "---|" * len(PROGRAMS))
        for r in summ["rows"]:
            L.append("| %s | %s | %s | %s |" % (r["scenario"], r["table"], MIX_NAME[r["mix"]],
                     " | ".join(fmt((r[p] or {}).get("cycles_per_pkt"), 0) for p in PROGRAMS)))
    if summ["instructions"]:
        L.append("")
        L.append("## Instructions per packet (callgrind, forwarding lcore, 64 B frames, "
                 "10k-route tables)")
        L.append("")
        L.append("| scenario | peerfwd | l3fwd-lpm | l3fwd-fib | testpmd io | peerfwd above "
                 "testpmd | l3fwd-lpm above testpmd | peerfwd: own code / net_pcap / "
                 "net_null |")
        L.append("|---|---|---|---|---|---|---|---|")
        for e in summ["instructions"]:
            def g(p):
                return e.get(p, {}).get("instr_per_pkt")
            pf, tp, lpm = g("peerfwd"), g("testpmd"), g("l3fwd-lpm")
            bo = e.get("peerfwd", {}).get("by_object", {})
            L.append("| %s | **%s** | %s | %s | %s | %s | %s | %s / %s / %s |" % (
                e["scenario"], fmt(pf, 0), fmt(lpm, 0), fmt(g("l3fwd-fib"), 0), fmt(tp, 0),
                fmt(pf - tp if pf and tp else None, 0),
                fmt(lpm - tp if lpm and tp else None, 0), fmt(bo.get("peerfwd"), 0),
                fmt(bo.get("librte_net_pcap"), 0), fmt(bo.get("librte_net_null"), 0)))
        L.append("")
        L.append("Total instructions of the forwarding lcore while it forwarded from a pcap "
                 "that never runs dry, divided by the packets it sent (its own counters). "
                 "\"above testpmd\" is the program's cost beyond pure I/O on the same "
                 "frames. The profiles are in `logs/callgrind/*/` (`callgrind_annotate FILE`).")
    if summ.get("esp"):
        L += esp_md(res, summ["esp"])
    if res.get("config_checks"):
        L.append("")
        L.append("## peerfwd configuration validation and start-up")
        L.append("")
        L.append("| configuration | routes | JSON MB | `--check` s | `--check` max RSS MB | "
                 "start-up to first packet s (median) |")
        L.append("|---|---|---|---|---|---|")
        start = {}
        for r in summ["rows"]:
            if r["peerfwd"]:
                start["%s_%s" % (r["scenario"], r["table"])] = r["peerfwd"]["startup_s"]
        for k, c in res["config_checks"].items():
            L.append("| %s | %d | %.1f | %.2f | %d | %s |" % (
                k, c["routes"], c["bytes"] / 1e6, c["seconds"], c["max_rss_mb"],
                fmt(start.get(k), 1)))
    if not summ["rows"]:
        L.append("")
        if charts:
            L.append("## Charts")
            for c in charts:
                L.append("")
                L.append("![%s](%s)" % (c, c))
            L.append("")
        with open(os.path.join(out, "RESULTS.md"), "w") as f:
            f.write("\n".join(L))
        return
    L.append("")
    L.append("## Cross-checks")
    L.append("")
    L.append("| scenario | table | frames | peerfwd own count / --duration, Mpps | "
             "peerfwd sent / received (own counters, lowest) | peerfwd drops |")
    L.append("|---|---|---|---|---|---|")
    for r in summ["rows"]:
        pf = r["peerfwd"] or {}
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["table"], MIX_NAME[r["mix"]], fmt(pf.get("selfreport_mpps")),
            fmt(pf.get("forwarded_fraction"), 4),
            ", ".join("%s %d" % kv for kv in pf.get("drops", {}).items()) or "none"))
    L.append("")
    L.append("peerfwd's own figure counts from worker launch to exit (cold start included) "
             "over the integer `--duration`; the telemetry window above excludes the "
             "warm-up. Failed runs: %d; failed first attempts that were repeated: %d%s." % (
                 sum(1 for r in res["runs"] + res.get("callgrind", []) if not r.get("ok")),
                 len(res.get("failed_attempts", [])),
                 "".join(" (%s: %s)" % (f["key"], f.get("error")) for f in
                         res.get("failed_attempts", []))))
    L.extend(window_drops_lines(res))
    L.extend(churn_lines(out))
    if charts:
        L.append("")
        L.append("## Charts")
        for c in charts:
            L.append("")
            L.append("![%s](%s)" % (c, c))
    L.append("")
    with open(os.path.join(out, "RESULTS.md"), "w") as f:
        f.write("\n".join(L))


def charts(out, summ):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report.py: matplotlib missing (python3-matplotlib): no charts", file=sys.stderr)
        return []
    made = []
    colors = {"peerfwd": "#d62728", "l3fwd-lpm": "#1f77b4", "l3fwd-fib": "#17becf",
              "testpmd": "#7f7f7f"}
    scens = [s for s in ("encap", "public", "decap", "encap6")
             if any(r["scenario"] == s for r in summ["rows"])]
    if scens:
        fig, axes = plt.subplots(len(scens), 1, figsize=(11, 3.2 * len(scens)), squeeze=False)
        for ax, s in zip(axes[:, 0], scens):
            rows = [r for r in summ["rows"] if r["scenario"] == s]
            w = 0.2
            for i, p in enumerate(PROGRAMS):
                xs, ys, lo, hi = [], [], [], []
                for j, r in enumerate(rows):
                    d = r[p]
                    if d and "mpps" in d:
                        xs.append(j + (i - 1.5) * w)
                        ys.append(d["mpps"])
                        lo.append(d["mpps"] - d["mpps_min"])
                        hi.append(d["mpps_max"] - d["mpps"])
                ax.bar(xs, ys, w, yerr=[lo, hi], capsize=2, label=p if s == scens[0] else None,
                       color=colors[p])
            ax.set_xticks(range(len(rows)))
            ax.set_xticklabels(["%s / %s" % (r["table"], MIX_NAME[r["mix"]]) for r in rows])
            ax.set_ylabel("Mpps")
            ax.set_title(s)
            ax.grid(axis="y", alpha=0.3)
        fig.suptitle("Throughput, one forwarding core, pcap → null (median, min–max)", y=0.995)
        fig.legend(loc="upper center", bbox_to_anchor=(0.5, 0.975), ncol=4)
        fig.tight_layout(rect=(0, 0, 1, 0.95))
        fig.savefig(os.path.join(out, "throughput.png"), dpi=90)
        plt.close(fig)
        made.append("throughput.png")
        # ratios: wall-clock Mpps and per on-CPU second, paired by repetition
        rows = summ["rows"]
        panels = [("ratio", "Mpps ratio (wall clock)")]
        if any(r["ratio_cpu"] for r in rows):
            panels.append(("ratio_cpu", "ratio of Mpps per CPU-second"))
        fig, axes = plt.subplots(len(panels), 1, figsize=(11, 3.6 * len(panels)),
                                 squeeze=False)
        w = 0.27
        for ax, (field, ylabel) in zip(axes[:, 0], panels):
            for i, ref in enumerate(("testpmd", "l3fwd-lpm", "l3fwd-fib")):
                xs = [j + (i - 1) * w for j, r in enumerate(rows) if ref in r[field]]
                ys = [r[field][ref] for r in rows if ref in r[field]]
                ax.bar(xs, ys, w, label="peerfwd / " + ref, color=colors[ref])
            ax.axhline(1.0, color="black", lw=0.8)
            ax.set_xticks(range(len(rows)))
            ax.set_xticklabels(["%s\n%s\n%s" % (r["scenario"], r["table"], MIX_NAME[r["mix"]])
                                for r in rows], fontsize=7)
            ax.set_ylabel(ylabel)
            ax.grid(axis="y", alpha=0.3)
        axes[0, 0].set_title("peerfwd relative to the references measured in the same run "
                             "(median of per-repetition ratios)")
        axes[0, 0].legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out, "ratios.png"), dpi=90)
        plt.close(fig)
        made.append("ratios.png")
    if summ["instructions"]:
        fig, ax = plt.subplots(figsize=(11, 4))
        parts = [("app", "#d62728"), ("librte_net_pcap", "#ff7f0e"),
                 ("librte_net_null", "#2ca02c"), ("other", "#7f7f7f")]
        labels, stacks = [], {p: [] for p, _ in parts}
        for e in summ["instructions"]:
            for p in PROGRAMS:
                if p not in e:
                    continue
                labels.append("%s\n%s" % (e["scenario"], p))
                bo = dict(e[p]["by_object"])
                tot = e[p]["instr_per_pkt"]
                pc, nl = bo.pop("librte_net_pcap", 0), bo.pop("librte_net_null", 0)
                app = sum(v for k, v in bo.items() if k in ("peerfwd", "l3fwd-shared",
                                                             "dpdk-testpmd", "librte_lpm",
                                                             "librte_fib"))
                stacks["app"].append(app)
                stacks["librte_net_pcap"].append(pc)
                stacks["librte_net_null"].append(nl)
                stacks["other"].append(max(0.0, tot - app - pc - nl))
        bottom = [0.0] * len(labels)
        for p, c in parts:
            ax.bar(range(len(labels)), stacks[p], 0.7, bottom=bottom, label=p, color=c)
            bottom = [b + v for b, v in zip(bottom, stacks[p])]
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=6)
        ax.set_ylabel("instructions / packet")
        ax.set_title("callgrind, forwarding lcore, 64 B (app = program + its LPM/FIB library)")
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "instructions.png"), dpi=90)
        plt.close(fig)
        made.append("instructions.png")
    if summ.get("esp"):
        c = esp_chart(out, summ["esp"], plt)
        if c:
            made.append(c)
    enc = [r for r in summ["rows"] if r["scenario"] == "encap"]
    tables = list(dict.fromkeys(r["table"] for r in enc))
    if len(tables) > 1:
        fig, ax = plt.subplots(figsize=(8, 4))
        for p in ("peerfwd", "l3fwd-lpm", "l3fwd-fib"):
            for mix, ls in (("64", "-"), ("imix", "--"), ("1400", ":")):
                pts = [(tables.index(r["table"]), r[p]["mpps"]) for r in enc
                       if r["mix"] == mix and r[p] and "mpps" in r[p]]
                if pts:
                    ax.plot([x for x, _ in pts], [y for _, y in pts], ls, marker="o",
                            color=colors[p], label="%s %s" % (p, MIX_NAME[mix]))
        ax.set_xticks(range(len(tables)))
        ax.set_xticklabels(tables)
        ax.set_xlabel("IPv4 routes")
        ax.set_ylabel("Mpps")
        ax.set_title("encap: throughput against table size")
        ax.legend(fontsize=7, ncol=3)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "table_size.png"), dpi=90)
        plt.close(fig)
        made.append("table_size.png")
    return made


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "out")
    path = os.path.join(out, "results.json")
    with open(path) as f:
        res = json.load(f)
    summ = summarize(res)
    res["summary"] = summ
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    made = charts(out, summ)
    write_md(out, res, summ, made)
    print("report.py: wrote %s/RESULTS.md%s" % (out, "".join(", " + m for m in made)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
