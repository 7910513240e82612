set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_length.png"
set title "copy: test sequence accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "length"
set ylabel "sequence accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [16:25]
set xtics ("20" 20)
plot '-' using 1:2:3:4 with yerrorlines title "gpt-alibi" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "gpt-learned" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "gpt-none" lw 2 lc 3, '-' using 1:2:3:4 with yerrorlines title "gpt-rope" lw 2 lc 4, '-' using 1:2:3:4 with yerrorlines title "gpt-sinusoidal" lw 2 lc 5, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 4 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 5 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
20 0.14 0.10840000000000001 0.16760999999999998
e
20 0 0 0
e
20 0 0 0
e
20 0.032 0.022799999999999997 0.041999999999999996
e
20 0 0 0
e
20 0.086
20 0.164
20 0.128
20 0.156
20 0.166
e
20 0
20 0
20 0
20 0
20 0
e
20 0
20 0
20 0
20 0
20 0
e
20 0.042
20 0.028
20 0.022
20 0.028
20 0.04
e
20 0
20 0
20 0
20 0
20 0
e
20 4.999999999999973e-23
e
