set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_delay.png"
set title "copy-memory: test sequence accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "delay"
set ylabel "sequence accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [25.6:40]
set xtics ("32" 32)
plot '-' using 1:2:3:4 with yerrorlines title "gpt-alibi" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "gpt-learned" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "gpt-none" lw 2 lc 3, '-' using 1:2:3:4 with yerrorlines title "gpt-rope" lw 2 lc 4, '-' using 1:2:3:4 with yerrorlines title "gpt-sinusoidal" lw 2 lc 5, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 4 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 5 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
32 0 0 0
e
32 0 0 0
e
32 0 0 0
e
32 0 0 0
e
32 0 0 0
e
32 0
32 0
32 0
32 0
32 0
e
32 0
32 0
32 0
32 0
32 0
e
32 0
32 0
32 0
32 0
32 0
e
32 0
32 0
32 0
32 0
32 0
e
32 0
32 0
32 0
32 0
32 0
e
32 9.313225746154793e-10
e
