set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "token_accuracy_vs_pairs-length.png"
set title "mqar: test token accuracy\npoints: mean over 3 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "pairs:length"
set ylabel "token accuracy"
set grid
set key outside right
set yrange [0:1.02]
set xrange [-0.5:1.5]
set xtics ("4:64" 0, "8:128" 1)
plot '-' using 1:2:3:4 with yerrorbars title "gpt-d64" lw 2 lc 1, '-' using 1:2:3:4 with yerrorbars title "gru-h64" lw 2 lc 2, '-' using 1:2:3:4 with yerrorbars title "mamba-d64" lw 2 lc 3, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
-0.08 0.9954999999999999 0.9933333333333333 0.9975
0.92 0.12158333333333333 0.11791458333333334 0.12525
e
0 0.247 0.24283333333333332 0.2515
1 0.11341666666666667 0.11124791666666667 0.11558333333333333
e
0.08 0.254 0.24783333333333335 0.2608333333333333
1.08 0.11508333333333333 0.10991666666666666 0.12083333333333333
e
-0.08 0.995
-0.08 0.997
-0.08 0.9945
0.92 0.1225
0.92 0.121
0.92 0.12125
e
0 0.251
0 0.2445
0 0.2455
1 0.114
1 0.11325
1 0.113
e
0.08 0.2545
0.08 0.2575
0.08 0.25
1.08 0.11175
1.08 0.113
1.08 0.1205
e
0 0.00390625
1 0.00390625
e
