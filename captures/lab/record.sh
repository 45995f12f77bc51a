#!/usr/bin/env bash
# Record real Opus/RTP calls through the Linux kernel, with exact ground truth.
#
#   sudo bash captures/lab/record.sh [scenario...]     (default: all scenarios)
#
# Topology (all traffic stays inside these namespaces):
#
#   ns anl-a                ns anl-mb (middlebox)                 ns anl-b
#   veth-a 10.77.0.1/24 --- mb-a ]-- br0 (bridge) --[ mb-b --- veth-b 10.77.0.2/24
#   tcpdump -i veth-a       nftables (bridge family) drops         tcpdump -i veth-b
#   = "sender" capture      tc tbf on mb-b (towards B)             = "receiver" capture
#
# Why a middlebox namespace: a packet socket (tcpdump) on the receiving interface sees a
# frame *before* the receiver's netfilter input hook, and on the sending interface *after*
# its egress qdisc. Dropping inside A or B would therefore make the two captures agree and
# the loss invisible. Impairing between the two capture points, like an in-path DPI box,
# gives a sender capture with everything that was sent and a receiver capture with only
# what arrived.
#
# Media: A (caller) 10.77.0.1:5004 <-> B (callee) 10.77.0.2:5006, symmetric RTP (each side
# sends from the port it receives on). GStreamer: audiotestsrc -> opusenc -> rtpopuspay
# pt=111 -> udpsink; receivers are udpsrc -> fakesink. Impairments act on A->B only.
#
# Outputs per scenario, in captures/lab/:
#   <s>-sender.pcap  <s>-receiver.pcap  <s>.truth.json
#   <s>.receiver.tshark-rtp.txt  <s>.sender.tshark-rtp.txt   (tshark -z rtp,streams, heuristic)
#   sdp.receiver.tshark-rtp-noheur.txt                       (sdp scenario, tshark default mode)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$HERE}"
PY="${PYTHON:-python3}"

NS_A=anl-a
NS_B=anl-b
NS_M=anl-mb
IP_A=10.77.0.1
IP_B=10.77.0.2
PORT_A=5004 # A receives (and sends from) here
PORT_B=5006 # B receives (and sends from) here
SSRC_AB=$((0x0A770001))
SSRC_BA=$((0x0B770002))
SEQ_AB=65200 # A->B sequence numbers wrap after 336 packets (tests seq unwrapping)
SEQ_BA=1000

ALL_SCENARIOS=(clean clean60 loss5 cutoff periodic ratecap sdp)

die() { echo "record.sh: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "must run as root (network namespaces)"
for t in ip nft tc tcpdump gst-launch-1.0 tshark "$PY"; do
    command -v "$t" >/dev/null || die "missing tool: $t"
done

WORK="$(mktemp -d /tmp/anl-lab.XXXXXX)"
PIDS=()

now() { date +%s.%N; }

teardown_ns() {
    local ns pid
    for ns in "$NS_A" "$NS_B" "$NS_M"; do
        # processes this script started inside its namespaces (if any are left)
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
}

cleanup() {
    local p
    for p in "${PIDS[@]:-}"; do
        [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
    done
    sleep 0.2
    teardown_ns
    if [[ ${LAB_DEBUG:-0} == 1 ]]; then
        echo "record.sh: LAB_DEBUG=1, work files kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup_ns() {
    teardown_ns # idempotent: remove leftovers of an interrupted run
    local ns
    for ns in "$NS_A" "$NS_B" "$NS_M"; do
        ip netns add "$ns"
        # no IPv6: keeps router solicitations / MLD reports out of the captures
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    ip link add veth-a netns "$NS_A" type veth peer name mb-a netns "$NS_M"
    ip link add veth-b netns "$NS_B" type veth peer name mb-b netns "$NS_M"
    # no STP, no multicast snooping: the bridge itself must not emit IGMP/STP frames
    ip -n "$NS_M" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
    ip -n "$NS_M" link set br0 multicast off
    ip -n "$NS_M" link set mb-a master br0
    ip -n "$NS_M" link set mb-b master br0
    ip -n "$NS_M" link set mb-a up
    ip -n "$NS_M" link set mb-b up
    ip -n "$NS_M" link set br0 up
    ip -n "$NS_A" addr add "$IP_A/24" dev veth-a
    ip -n "$NS_B" addr add "$IP_B/24" dev veth-b
    ip -n "$NS_A" link set veth-a up
    ip -n "$NS_B" link set veth-b up
    # The middlebox: a bridge-family table whose `impair` chain the scenarios fill.
    ip netns exec "$NS_M" nft -f - <<EOF
table bridge anl {
  counter dropped { }
  chain impair { }
  chain forward {
    type filter hook forward priority 0; policy accept;
    jump impair
  }
}
EOF
}

# Match for the impaired direction (A->B media).
AB_MATCH="ip saddr $IP_A ip daddr $IP_B udp dport $PORT_B"

EVENTS=""
event() { # event NAME [DETAIL] -- appends {"t": epoch, "event": NAME, "detail": ...}
    printf '{"t": %s, "event": "%s", "detail": "%s"}\n' "$(now)" "$1" "${2:-}" >>"$EVENTS"
}

nft_m() { ip netns exec "$NS_M" nft "$@"; }

drop_on() {
    nft_m add rule bridge anl impair "$AB_MATCH" counter name dropped drop
    event drop_on "$AB_MATCH"
}
drop_off() {
    nft_m flush chain bridge anl impair
    event drop_off
}

sleep_until() { # sleep_until EPOCH
    local d
    d=$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; if (d < 0) d = 0; printf "%.3f", d }')
    sleep "$d"
}

sender_pipeline() { # ns src_ip src_port dst_ip dst_port ssrc seq wave freq bitrate brtype
    local ns=$1 sip=$2 sport=$3 dip=$4 dport=$5 ssrc=$6 seq=$7 wave=$8 freq=$9
    local bitrate=${10} brtype=${11}
    local nbuf=$((DURATION * 50)) # 960 samples @ 48 kHz = 20 ms per buffer
    exec ip netns exec "$ns" gst-launch-1.0 -q \
        audiotestsrc is-live=true wave="$wave" freq="$freq" volume=0.5 \
        samplesperbuffer=960 num-buffers="$nbuf" \
        ! audio/x-raw,rate=48000,channels=1 ! audioconvert \
        ! opusenc frame-size="$FRAME_MS" bitrate="$bitrate" bitrate-type="$brtype" \
        ! rtpopuspay pt=111 ssrc="$ssrc" seqnum-offset="$seq" \
        ! udpsink host="$dip" port="$dport" bind-address="$sip" bind-port="$sport"
}

receiver_pipeline() { # ns port
    exec ip netns exec "$1" gst-launch-1.0 -q udpsrc port="$2" ! fakesink
}

scenario_defaults() {
    DURATION=15
    FRAME_MS=20
    BITRATE_AB=16000
    BITRATE_BA=16000
    BRTYPE_AB=vbr
    BRTYPE_BA=vbr
    SDP=0
    IMPAIR=none
    IMPAIR_JSON='{"kind": "none"}'
    DESC=""
}

scenario_config() {
    scenario_defaults
    case "$1" in
    clean)
        DESC="Clean two-way call, Opus 20 ms frames, no impairment."
        ;;
    clean60)
        FRAME_MS=60
        DESC="Clean two-way call, Opus 60 ms frames (about 16.7 packets/s), no impairment."
        ;;
    loss5)
        IMPAIR=loss
        LOSS_PCT=5
        IMPAIR_JSON="{\"kind\": \"random_loss\", \"direction\": \"a_to_b\", \"loss_pct\": $LOSS_PCT,
          \"where\": \"$NS_M nft bridge forward\",
          \"nft_rule\": \"$AB_MATCH numgen random mod 100 < $LOSS_PCT drop\"}"
        DESC="Independent random drop of ${LOSS_PCT}% of A->B media (nftables numgen random)."
        ;;
    cutoff)
        IMPAIR=cutoff
        CUTOFF_AT=8
        IMPAIR_JSON="{\"kind\": \"cutoff\", \"direction\": \"a_to_b\",
          \"cutoff_after_s\": $CUTOFF_AT, \"relative_to\": \"media start (t0 event)\",
          \"where\": \"$NS_M nft bridge forward\", \"nft_rule\": \"$AB_MATCH drop\"}"
        DESC="A->B media dropped completely from ${CUTOFF_AT} s after media start; B->A continues."
        ;;
    periodic)
        IMPAIR=periodic
        DURATION=18
        PERIOD=4
        DROP_FOR=1
        FIRST_DROP=2.5
        IMPAIR_JSON="{\"kind\": \"periodic_drop\", \"direction\": \"a_to_b\",
          \"period_s\": $PERIOD, \"drop_s\": $DROP_FOR, \"first_drop_at_s\": $FIRST_DROP,
          \"relative_to\": \"media start (t0 event)\",
          \"where\": \"$NS_M nft bridge forward\", \"nft_rule\": \"$AB_MATCH drop\"}"
        DESC="A->B media dropped for ${DROP_FOR} s every ${PERIOD} s (first at ${FIRST_DROP} s)."
        ;;
    ratecap)
        IMPAIR=ratecap
        BITRATE_AB=48000
        BRTYPE_AB=cbr
        TBF_RATE=48kbit
        TBF_BURST=1000
        TBF_LATENCY=100ms
        IMPAIR_JSON="{\"kind\": \"rate_cap\", \"direction\": \"a_to_b\", \"qdisc\": \"tbf\",
          \"rate_bps\": 48000, \"burst_bytes\": $TBF_BURST, \"latency_ms\": 100,
          \"accounting\": \"Ethernet frame bytes (14 B header + IP packet)\",
          \"where\": \"$NS_M tc on mb-b egress (towards B), A->B media only\",
          \"classifier\": \"htb root 1: (1 Gbit/s classes), u32 $AB_MATCH -> 1:10, else 1:20\",
          \"tc\": \"tc qdisc add dev mb-b parent 1:10 handle 10: tbf rate $TBF_RATE burst $TBF_BURST latency $TBF_LATENCY\"}"
        DESC="A->B shaped by tc tbf 48 kbit/s (Ethernet bytes) while Opus sends 48 kbit/s CBR:
 174-byte frames x 50/s = 69.6 kbit/s on the wire, so the shaper queues then tail-drops."
        ;;
    sdp)
        SDP=1
        DESC="Clean call set up with SIP INVITE/200 OK/ACK carrying SDP (opus/48000/2, pt 111)
 over UDP 5060, BYE at the end; tshark decodes the RTP without heuristics."
        ;;
    *)
        die "unknown scenario: $1 (known: ${ALL_SCENARIOS[*]})"
        ;;
    esac
}

stop_pid() { # stop_pid PID [SIG]
    kill -"${2:-TERM}" "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

run_scenario() {
    local s=$1
    scenario_config "$s"
    echo "== $s: $DESC" | tr '\n' ' '
    echo
    EVENTS="$WORK/$s.events.jsonl"
    : >"$EVENTS"
    setup_ns

    case "$IMPAIR" in
    loss)
        nft_m add rule bridge anl impair "$AB_MATCH" \
            numgen random mod 100 "<" "$LOSS_PCT" counter name dropped drop
        event loss_on "$LOSS_PCT%"
        ;;
    ratecap)
        # Shape only the A->B media flow (as a flow-classifying DPI box would): an htb root
        # used purely as a classifier (both classes 1 Gbit/s), a u32 filter sends the media
        # to class 1:10 whose leaf qdisc is the tbf; everything else (ARP) goes to 1:20.
        # So the tbf's drop counter equals the RTP losses exactly.
        local tcm=(ip netns exec "$NS_M" tc)
        "${tcm[@]}" qdisc add dev mb-b root handle 1: htb default 20
        "${tcm[@]}" class add dev mb-b parent 1: classid 1:10 htb rate 1gbit quantum 1514
        "${tcm[@]}" class add dev mb-b parent 1: classid 1:20 htb rate 1gbit quantum 1514
        "${tcm[@]}" qdisc add dev mb-b parent 1:10 handle 10: tbf \
            rate "$TBF_RATE" burst "$TBF_BURST" latency "$TBF_LATENCY"
        "${tcm[@]}" filter add dev mb-b parent 1: protocol ip prio 1 u32 \
            match ip src "$IP_A"/32 match ip dst "$IP_B"/32 match ip dport "$PORT_B" 0xffff \
            flowid 1:10
        event tbf_on "rate $TBF_RATE burst $TBF_BURST latency $TBF_LATENCY"
        ;;
    esac

    local pcap_a="$WORK/$s-sender.pcap" pcap_b="$WORK/$s-receiver.pcap"
    ip netns exec "$NS_A" tcpdump -i veth-a --immediate-mode -U -w "$pcap_a" 2>"$WORK/tcpdump-a.log" &
    local td_a=$!
    ip netns exec "$NS_B" tcpdump -i veth-b --immediate-mode -U -w "$pcap_b" 2>"$WORK/tcpdump-b.log" &
    local td_b=$!
    PIDS+=("$td_a" "$td_b")
    local td_m=()
    if [[ ${LAB_DEBUG:-0} == 1 ]]; then # middlebox-side captures, kept in $WORK only
        for i in mb-a mb-b; do
            ip netns exec "$NS_M" tcpdump -i "$i" --immediate-mode -U -w "$WORK/$s-$i.pcap" 2>"$WORK/tcpdump-$i.log" &
            td_m+=($!)
        done
        PIDS+=("${td_m[@]}")
    fi
    local i
    for i in $(seq 50); do
        grep -q listening "$WORK/tcpdump-a.log" && grep -q listening "$WORK/tcpdump-b.log" && break
        sleep 0.1
    done
    sleep 0.3

    receiver_pipeline "$NS_A" "$PORT_A" &
    local rx_a=$!
    receiver_pipeline "$NS_B" "$PORT_B" &
    local rx_b=$!
    PIDS+=("$rx_a" "$rx_b")

    local uas=""
    if [[ $SDP == 1 ]]; then
        ip netns exec "$NS_B" "$PY" "$HERE/sip.py" uas --local "$IP_B" --rtp-port "$PORT_B" &
        uas=$!
        PIDS+=("$uas")
        sleep 0.3
        ip netns exec "$NS_A" "$PY" "$HERE/sip.py" invite --local "$IP_A" --remote "$IP_B" \
            --rtp-port "$PORT_A" --state "$WORK/sip.state"
        event sip_established
    fi
    sleep 0.5

    local t0
    t0=$(now)
    event t0 "media start"
    sender_pipeline "$NS_B" "$IP_B" "$PORT_B" "$IP_A" "$PORT_A" "$SSRC_BA" "$SEQ_BA" \
        sine 660 "$BITRATE_BA" "$BRTYPE_BA" &
    local tx_b=$!
    sender_pipeline "$NS_A" "$IP_A" "$PORT_A" "$IP_B" "$PORT_B" "$SSRC_AB" "$SEQ_AB" \
        sine 440 "$BITRATE_AB" "$BRTYPE_AB" &
    local tx_a=$!
    PIDS+=("$tx_a" "$tx_b")

    case "$IMPAIR" in
    cutoff)
        sleep_until "$(awk -v a="$t0" -v b="$CUTOFF_AT" 'BEGIN { printf "%.6f", a + b }')"
        drop_on
        ;;
    periodic)
        local start
        start=$FIRST_DROP
        # only windows that end at least 1 s before the media does (no tail loss)
        while awk -v s="$start" -v d="$DROP_FOR" -v D="$DURATION" 'BEGIN { exit !(s + d <= D - 1) }'; do
            sleep_until "$(awk -v a="$t0" -v b="$start" 'BEGIN { printf "%.6f", a + b }')"
            drop_on
            sleep_until "$(awk -v a="$t0" -v b="$start" -v d="$DROP_FOR" 'BEGIN { printf "%.6f", a + b + d }')"
            drop_off
            start=$(awk -v s="$start" -v p="$PERIOD" 'BEGIN { print s + p }')
        done
        ;;
    esac

    wait "$tx_a" || die "$s: A sender failed"
    wait "$tx_b" || die "$s: B sender failed"
    event media_end
    if [[ $SDP == 1 ]]; then
        ip netns exec "$NS_A" "$PY" "$HERE/sip.py" bye --state "$WORK/sip.state"
        wait "$uas" || true
        event sip_bye
    fi
    sleep 0.7 # let the shaper queue drain
    stop_pid "$rx_a"
    stop_pid "$rx_b"
    sleep 0.2
    stop_pid "$td_a" INT
    stop_pid "$td_b" INT
    for i in "${td_m[@]}"; do stop_pid "$i" INT; done
    local log cap filt
    for log in "$WORK/tcpdump-a.log" "$WORK/tcpdump-b.log"; do
        cap=$(awk '/packets captured/ { print $1 }' "$log")
        filt=$(awk '/packets received by filter/ { print $1 }' "$log")
        event tcpdump_stats "$(basename "$log" .log): $(grep packets "$log" | paste -sd, -)"
        [[ -n $cap && $cap == "$filt" ]] || die "$s: $log: tcpdump missed packets ($cap/$filt)"
    done
    PIDS=()

    # middlebox counters, for the truth file's cross-check
    nft_m list counter bridge anl dropped >"$WORK/$s.nft-counter.txt" 2>&1 || true
    ip netns exec "$NS_M" tc -s qdisc show dev mb-b >"$WORK/$s.tc-stats.txt" 2>&1 || true
    teardown_ns

    mkdir -p "$OUT"
    cp "$pcap_a" "$OUT/$s-sender.pcap"
    cp "$pcap_b" "$OUT/$s-receiver.pcap"
    chmod 644 "$OUT/$s-sender.pcap" "$OUT/$s-receiver.pcap"
    local side
    for side in sender receiver; do
        tshark -r "$OUT/$s-$side.pcap" -q -o rtp.heuristic_rtp:TRUE -z rtp,streams \
            >"$OUT/$s.$side.tshark-rtp.txt" 2>/dev/null
    done
    if [[ $SDP == 1 ]]; then
        tshark -r "$OUT/$s-receiver.pcap" -q -z rtp,streams \
            >"$OUT/$s.receiver.tshark-rtp-noheur.txt" 2>/dev/null
    fi

    cat >"$WORK/$s.params.json" <<EOF
{
  "scenario": "$s",
  "description": "$(echo "$DESC" | tr '\n' ' ')",
  "duration_s": $DURATION,
  "frame_ms": $FRAME_MS,
  "sdp": $([[ $SDP == 1 ]] && echo true || echo false),
  "impairment": $IMPAIR_JSON,
  "endpoints": {
    "a": {"namespace": "$NS_A", "interface": "veth-a", "ip": "$IP_A", "rtp_port": $PORT_A},
    "b": {"namespace": "$NS_B", "interface": "veth-b", "ip": "$IP_B", "rtp_port": $PORT_B},
    "middlebox": {"namespace": "$NS_M", "bridge": "br0", "ports": ["mb-a", "mb-b"]}
  },
  "media": {
    "a_to_b": {"ssrc": $SSRC_AB, "seq_start": $SEQ_AB, "opus_bitrate": $BITRATE_AB,
               "bitrate_type": "$BRTYPE_AB", "source": "audiotestsrc wave=sine freq=440"},
    "b_to_a": {"ssrc": $SSRC_BA, "seq_start": $SEQ_BA, "opus_bitrate": $BITRATE_BA,
               "bitrate_type": "$BRTYPE_BA", "source": "audiotestsrc wave=sine freq=660"}
  }
}
EOF
    "$PY" "$HERE/truth.py" --scenario "$s" --dir "$OUT" --params "$WORK/$s.params.json" \
        --events "$EVENTS" --nft-counter "$WORK/$s.nft-counter.txt" \
        --tc-stats "$WORK/$s.tc-stats.txt" || FAILED+=("$s")
}

SCENARIOS=("$@")
[[ ${#SCENARIOS[@]} -gt 0 ]] || SCENARIOS=("${ALL_SCENARIOS[@]}")
for s in "${SCENARIOS[@]}"; do
    scenario_config "$s" # validate names before recording anything
done
FAILED=()
for s in "${SCENARIOS[@]}"; do
    run_scenario "$s"
done
if [[ ${#FAILED[@]} -gt 0 ]]; then
    echo "record.sh: truth checks failed for: ${FAILED[*]} (see checks in the .truth.json)" >&2
    exit 1
fi
echo "record.sh: recorded ${SCENARIOS[*]} into $OUT"
