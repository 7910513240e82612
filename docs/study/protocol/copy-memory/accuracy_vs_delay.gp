set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_delay.png"
set title "copy-memory: test sequence accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "delay"
set ylabel "sequence accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [12.8:640]
set xtics ("16" 16, "32" 32, "64" 64, "128" 128, "256" 256, "512" 512)
plot '-' using 1:2:3:4 with yerrorlines title "lstm" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "lstm-attn" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "transformer" lw 2 lc 3, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
16 0.0172 0.009600000000000001 0.026000000000000002
32 0 0 0
64 0 0 0
128 0 0 0
256 0 0 0
512 0 0 0
e
16 1 1 1
32 1 1 1
64 0.9992000000000001 0.9968 1
128 1 1 1
256 1 1 1
512 0.9996 0.998 1
e
16 1 1 1
32 1 1 1
64 0.9996 0.9984 1
128 0.9992000000000001 0.9972 1
256 0.9560000000000001 0.866 1
512 0.9411999999999999 0.8480000000000001 0.9987999999999999
e
16 0.012
16 0.014
16 0.026
16 0.008
16 0.026
32 0
32 0
32 0
32 0
32 0
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
256 0
256 0
256 0
256 0
256 0
512 0
512 0
512 0
512 0
512 0
e
16 1
16 1
16 1
16 1
16 1
32 1
32 1
32 1
32 1
32 1
64 1
64 1
64 1
64 1
64 0.996
128 1
128 1
128 1
128 1
128 1
256 1
256 1
256 1
256 1
256 1
512 0.998
512 1
512 1
512 1
512 1
e
16 1
16 1
16 1
16 1
16 1
32 1
32 1
32 1
32 1
32 1
64 1
64 1
64 1
64 0.998
64 1
128 1
128 1
128 1
128 0.996
128 1
256 1
256 1
256 0.782
256 0.998
256 1
512 0.95
512 0.994
512 0.762
512 1
512 1
e
16 9.313225746154793e-10
32 9.313225746154793e-10
64 9.313225746154793e-10
128 9.313225746154793e-10
256 9.313225746154793e-10
512 9.313225746154793e-10
e
