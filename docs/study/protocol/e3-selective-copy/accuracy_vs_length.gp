set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_length.png"
set title "selective-copy: test sequence accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "length"
set ylabel "sequence accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [51.2:160]
set xtics ("64" 64, "128" 128)
plot '-' using 1:2:3:4 with yerrorlines title "gpt" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "lstm-chrono" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "mamba" lw 2 lc 3, '-' using 1:2:3:4 with yerrorlines title "mamba-lti" lw 2 lc 4, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 4 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
64 0.25160000000000005 0.10879000000000003 0.38681
128 0.038400000000000004 0.0132 0.07160999999999994
e
64 0 0 0
128 0 0 0
e
64 0 0 0
128 0 0 0
e
64 0 0 0
128 0 0 0
e
64 0.422
64 0.334
64 0.02
64 0.372
64 0.11
128 0.1
128 0.044
128 0.022
128 0.024
128 0.002
e
64 0
64 0
64 0
64 0
64 0
128 0
128 0
128 0
128 0
128 0
e
64 0
64 0
64 0
64 0
64 0
128 0
128 0
128 0
128 0
128 0
e
64 0
64 0
64 0
64 0
64 0
128 0
128 0
128 0
128 0
128 0
e
64 5.42101086242753e-20
128 5.42101086242753e-20
e
